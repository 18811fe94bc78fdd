"""The pretraining budget `fit` uses when given none, apart from any Keras import.

The command line's `--help` shows it without importing Keras.
"""

# The pretraining length when fit() is given neither steps nor epochs:
# chosen by measurement (the init_quality study's budget runs,
# docs/benchmarks/init-quality.md).
DEFAULT_STEPS = 200
