"""Picks the backend's half of the train step, once, at import."""

import keras

BACKEND = keras.backend.backend()

if BACKEND == "tensorflow":
    from keras_ganinit import _trainer_tensorflow as backend_trainer
elif BACKEND == "jax":
    from keras_ganinit import _trainer_jax as backend_trainer
elif BACKEND == "torch":
    from keras_ganinit import _trainer_torch as backend_trainer
else:
    backend_trainer = None


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
