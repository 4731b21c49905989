"""One module per op family; each op is one Function with forward and backward side by side."""
