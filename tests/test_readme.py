"""README's examples run exactly as written, and its two set-up commands stay true."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)


def test_readme_has_python_examples():
    assert len(PYTHON_BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_readme_example_runs(index, capsys):
    exec(compile(PYTHON_BLOCKS[index], f"README.md example {index + 1}", "exec"), {})


def test_readme_setup_commands():
    commands = re.findall(r"```bash\n(.*?)```", TEXT, flags=re.S)
    assert len(commands) == 2
    main_job, tests = (c.strip() for c in commands)
    assert main_job.endswith("python tutorials/04_cnn_lenet.py")
    assert (README.parent / "tutorials" / "04_cnn_lenet.py").exists()
    # .ci/run must run exactly the test command that README gives
    test_command = tests.split("&&")[-1].strip()
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()
