"""Picks the backend's half of the train step, once, at import."""

from types import ModuleType

import keras

BACKEND = keras.backend.backend()
# GanInitModel.compile's default: Keras's per-step overhead (callbacks, logs,
# the input iterator) dominates small steps, so it runs once per 16 steps
# (measured by `python -m benchmarks throughput`, docs/benchmarks/throughput.md).
# PyTorch
# allows only 1.
STEPS_PER_EXECUTION = 16 if BACKEND in ("tensorflow", "jax") else 1

backend_trainer: ModuleType | None = None
if BACKEND == "tensorflow":
    from keras_ganinit._src.pretraining.trainers import tensorflow as backend_trainer
elif BACKEND == "jax":
    from keras_ganinit._src.pretraining.trainers import (  # type: ignore[no-redef]
        jax as backend_trainer,
    )
elif BACKEND == "torch":
    from keras_ganinit._src.pretraining.trainers import (  # type: ignore[no-redef]
        torch as backend_trainer,
    )


def check_backend():
    """Raises a clear error when GanInitModel cannot train on this backend."""
    if backend_trainer is None:
        raise NotImplementedError(
            f"GanInitModel trains on the TensorFlow, JAX and PyTorch backends, but "
            f"Keras is running on {BACKEND!r}. Set the environment variable "
            f"KERAS_BACKEND to tensorflow, jax or torch before importing keras. "
            f"(Loading a saved GanInitModel and GanPretrainedInitializer work on "
            f"every backend.)"
        )
