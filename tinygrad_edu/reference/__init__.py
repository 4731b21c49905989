"""Plain numpy reference loops, the oracles the tests compare against: conv and pool for the
compiled kernels (csrc/), lstm for the LSTM Functions with their hand-written backward through
time (ops/rnn.py)."""
