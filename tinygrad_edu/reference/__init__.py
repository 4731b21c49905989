"""Plain numpy reference loops of every compiled kernel: the oracle the tests compare against."""
