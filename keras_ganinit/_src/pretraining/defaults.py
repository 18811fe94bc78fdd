"""The pretraining budget `fit` uses when given none, apart from any Keras import.

The command line's `--help` shows it without importing Keras.
"""

# The pretraining length when fit() is given neither steps nor epochs:
# chosen by measurement (benchmarks/init_quality.py, the "N steps" methods;
# docs/benchmarks.md, "How long to pretrain").
DEFAULT_STEPS = 200
