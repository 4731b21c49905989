"""Neural-network layers, losses and functional ops (PyTorch-shaped)."""
