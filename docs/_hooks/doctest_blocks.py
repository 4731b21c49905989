"""A griffe extension for the API reference (mkdocs.yml → mkdocstrings → extensions).

The docstrings hold doctests (`>>>` lines and their output) as plain text, which Markdown would
read as a quotation. This fences each doctest block as Python code, so the examples show as
the code they are.
"""

from __future__ import annotations

import griffe


def fence_doctests(text: str) -> str:
    """Wrap every run of `>>>` lines (with their `...` continuations and output, up to the next
    blank line) in a ```pycon fence at the block's indentation."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        if not line.lstrip().startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        out += [indent + "```pycon", *(indent + b for b in block), indent + "```"]
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fence the doctests of every docstring loaded."""

    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
