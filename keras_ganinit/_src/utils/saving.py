"""Reading a `.keras` file the one safe way: safe mode, never compiled."""

import contextlib

import keras


class LoadError(Exception):
    """A `.keras` file could not be loaded.

    `cause` is Keras's own error; `unsafe` says whether it was refused for
    holding Python code (a Lambda layer), which safe mode never runs.
    """

    def __init__(self, cause):
        text = " ".join(str(cause).split())
        super().__init__(f"{type(cause).__name__}: {text}")
        self.cause = cause
        self.unsafe = "safe_mode" in text or "lambda" in text.lower()


def _safe_mode():
    """A scope in which Keras deserializes in safe mode, whatever was set."""
    try:
        from keras.src.saving.serialization_lib import SafeModeScope
    except ImportError:  # A later Keras: load_model's safe_mode=True remains.
        return contextlib.nullcontext()
    return SafeModeScope(True)


def load_model_safely(path):
    """The model saved at `path`, read in safe mode and not compiled.

    Safe mode even where the user's own code enabled unsafe deserialization:
    the files read here provide weights and architectures, and their paths
    may come from a config somebody else wrote.

    Raises:
        LoadError: whatever Keras raised, with `unsafe` set when the file
            holds a Lambda layer.
    """
    try:
        with _safe_mode():
            return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        raise LoadError(error) from error
