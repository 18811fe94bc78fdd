"""The subcommands' work, imported only once the command line has been checked.

`keras-ganinit --help`, and every mistake in the arguments, answer before
Keras (and TensorFlow) is imported; `load` imports it, with what native code
writes to stderr while it starts up (TensorFlow's and Abseil's start-up
lines) sent nowhere unless `--debug` is given, then the job's module.
"""

import contextlib
import importlib
import os
import sys


def load(name, debug):
    """The module `keras_ganinit_cli.jobs.NAME`, with Keras loaded quietly.

    `import keras_ganinit` registers every class the package saves, so any
    file it wrote can be read back.
    """
    with contextlib.nullcontext() if debug else native_stderr_silenced():
        import keras

        import keras_ganinit  # noqa: F401

        keras.ops.convert_to_tensor(0.0)  # Sets up the devices, which logs too.
        return importlib.import_module(f"{__name__}.{name}")


@contextlib.contextmanager
def native_stderr_silenced():
    """Sends what native code writes to stderr (file descriptor 2) nowhere.

    TensorFlow's C++ side and Abseil log several lines while TensorFlow starts
    up, and TF_CPP_MIN_LOG_LEVEL does not filter those lines (TensorFlow
    2.21). Python's own errors are raised as usual.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):
        saved = None
    if saved is None:
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
