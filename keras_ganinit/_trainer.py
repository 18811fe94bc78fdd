"""Picks the backend's half of the train step, once, at import."""

import keras

BACKEND = keras.backend.backend()
SUPPORTED = ("tensorflow",)

if BACKEND == "tensorflow":
    from keras_ganinit import _trainer_tensorflow as backend_trainer
else:
    backend_trainer = None


def check_backend():
    """Raises a clear error when GanInitModel cannot train on this backend."""
    if backend_trainer is None:
        raise NotImplementedError(
            f"GanInitModel trains on the TensorFlow backend only for now, but "
            f"Keras is running on {BACKEND!r}. Set the environment variable "
            f"KERAS_BACKEND=tensorflow before importing keras. (Loading a saved "
            f"GanInitModel and GanPretrainedInitializer work on every backend.)"
        )
