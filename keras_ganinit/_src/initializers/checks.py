"""The argument checks the initializers share, with errors that say what to do."""

import math
import numbers

import keras
import numpy as np
from keras import ops


def check_gain(gain, who):
    """`gain` as a float if it is a finite number > 0; an error saying so if not."""
    if isinstance(gain, bool) or not isinstance(gain, numbers.Real):
        raise TypeError(
            f"{who}'s gain must be a number, but got {gain!r} of type "
            f"{type(gain).__name__}. Pass e.g. gain=1.0."
        )
    if not (math.isfinite(gain) and gain > 0):
        raise ValueError(
            f"{who}'s gain must be a finite number > 0, but got "
            f"gain={gain!r}. Pass e.g. gain=1.0, which keeps a linear "
            f"convolution's signal norm."
        )
    return float(gain)


def check_shape(shape, who):
    """`shape` as a tuple of ints if it has >= 2 positive dims; a ValueError if not."""
    shape = tuple(shape)
    if len(shape) < 2 or not all(
        isinstance(dim, numbers.Integral) and dim > 0 for dim in shape
    ):
        raise ValueError(
            f"{who} initializes kernels of shape kernel_size + "
            f"(in_channels, out_channels), at least 2 positive dimensions, but "
            f"got shape={shape}. Use it for Conv1D/2D/3D kernels (a Dense "
            f"kernel (in, out) works too); initialize biases and other 1-D "
            f"weights with 'zeros' or 'ones'."
        )
    return tuple(int(dim) for dim in shape)


def check_dtype(dtype, who):
    """`dtype`, None meaning `keras.backend.floatx()`, if it is a float dtype."""
    dtype = keras.backend.standardize_dtype(dtype or keras.backend.floatx())
    if not keras.backend.is_float_dtype(dtype):
        raise ValueError(
            f"{who} draws floating-point kernels, but was asked for "
            f"dtype={dtype!r}. Pass a float dtype such as 'float32', or leave "
            f"dtype=None for keras.backend.floatx()."
        )
    return dtype


def drawn_in_float32(draw, shape, dtype, gain, who):
    """`draw(shape, "float32")` cast to `dtype`: every float dtype, always finite.

    Keras's orthogonal draw runs a QR decomposition, which TensorFlow has no
    kernel for in bfloat16 or float16, so kernels are drawn in float32 and
    cast. A gain that would overflow float32 or `dtype` (an orthogonal
    matrix's entries are at most 1, so the kernel's are at most `gain`) is
    refused before drawing: no kernel with inf or NaN is ever returned.
    """
    largest = float(min(np.finfo("float32").max, _finfo_max(dtype)))
    if gain > largest:
        raise ValueError(
            f"{who}'s gain={gain!r} does not fit dtype {dtype!r}: its kernels "
            f"would hold inf (the largest {dtype} is {largest:.4g}, and the "
            f"kernel's entries reach the gain). Pass a gain of about 1 (the "
            f"signal-norm-preserving value), or a wider dtype."
        )
    kernel = ops.cast(draw(shape, "float32"), dtype)
    if not bool(ops.all(ops.isfinite(ops.cast(kernel, "float32")))):
        raise ValueError(
            f"{who} drew a kernel with inf or NaN values for shape={shape}, "
            f"dtype={dtype!r}, gain={gain!r}. Pass a smaller gain."
        )
    return kernel


def _finfo_max(dtype):
    if dtype == "bfloat16":
        return 3.3895e38
    return np.finfo(dtype).max
