"""DeltaOrthogonal: an orthogonal centre tap, zeros elsewhere, for deep plain CNNs."""

import math
import numbers

import keras
import numpy as np
from keras import ops

from keras_ganinit._src.utils.checks import check_seed


@keras.saving.register_keras_serializable(package="keras_ganinit")
class DeltaOrthogonal(keras.initializers.Initializer):
    """Delta-orthogonal initializer for convolution kernels.

    Fills a kernel of shape `kernel_size + (in_channels, out_channels)` with
    zeros except for its centre tap (index `k // 2` along every spatial axis),
    which holds an orthogonal `(in_channels, out_channels)` matrix times
    `gain`, drawn as `keras.initializers.Orthogonal` draws it: the QR
    decomposition of a Gaussian matrix with the signs of `R`'s diagonal moved
    onto `Q`. If `in_channels >= out_channels` its columns are orthonormal,
    otherwise its rows are. At initialization each convolution is then a
    position-wise orthogonal map, so a deep plain CNN starts with the
    dynamical isometry that Xiao et al. (2018) use to train 10,000-layer
    vanilla CNNs.

    An even kernel size has no centre: the tap at index `k // 2` (the later
    of the two middle ones) is used, which under `padding="same"` shifts the
    signal by one position per layer. Prefer odd kernel sizes. A 2-D shape
    `(in, out)` has no spatial axes and gets a plain orthogonal matrix: for
    Dense kernels use `keras.initializers.Orthogonal`.

    Like Keras's random initializers, one instance returns the same kernel
    at every call, seeded or not: give each layer its own instance (or its
    own seed) so that the layers differ.

    Args:
        gain: A finite number > 0 that multiplies the orthogonal centre tap.
            `1.0` keeps the norm of a linear convolution's signal.
        seed: An integer to make the kernel reproducible, or `None` for a
            random draw made once per instance. Stored as given, so
            `get_config()` returns it unchanged.

    Reference:
        Xiao, Bahri, Sohl-Dickstein, Schoenholz and Pennington, "Dynamical
        Isometry and a Mean Field Theory of CNNs: How to Train 10,000-Layer
        Vanilla CNNs", ICML 2018 (arXiv:1806.05393).

    Example:

    >>> import keras
    >>> import numpy as np
    >>> from keras_ganinit.initializers import DeltaOrthogonal
    >>> kernel = DeltaOrthogonal(seed=0)(shape=(3, 3, 8, 8))
    >>> centre = keras.ops.convert_to_numpy(kernel[1, 1])
    >>> bool(abs(centre.T @ centre - np.eye(8)).max() < 1e-5)
    True
    >>> float(abs(keras.ops.convert_to_numpy(kernel[0])).max())
    0.0
    >>> layer = keras.layers.Conv2D(
    ...     8, 3, padding="same", kernel_initializer=DeltaOrthogonal(seed=1)
    ... )
    >>> layer.build((None, 16, 16, 8))
    >>> tuple(layer.kernel.shape)
    (3, 3, 8, 8)
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain = _check_gain(gain)
        self.seed = check_seed(seed, "DeltaOrthogonal's ", "a reproducible kernel")
        # Made once, so that an unseeded instance draws its seed once, as
        # Keras's own random initializers do.
        self._orthogonal = keras.initializers.Orthogonal(gain=self.gain, seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _check_shape(shape)
        dtype = _check_dtype(dtype)
        kernel_size, channels = shape[:-2], shape[-2:]
        centre = self._orthogonal(channels, dtype=dtype)
        # A one-hot mask over the spatial axes, broadcast over the channels.
        mask = np.zeros(kernel_size + (1, 1))
        mask[tuple(size // 2 for size in kernel_size)] = 1.0
        return ops.convert_to_tensor(mask, dtype=dtype) * centre

    def get_config(self):
        return {**super().get_config(), "gain": self.gain, "seed": self.seed}


def _check_gain(gain):
    """`gain` as a float if it is a finite number > 0; an error saying so if not."""
    if isinstance(gain, bool) or not isinstance(gain, numbers.Real):
        raise TypeError(
            f"DeltaOrthogonal's gain must be a number, but got {gain!r} of type "
            f"{type(gain).__name__}. Pass e.g. gain=1.0."
        )
    if not (math.isfinite(gain) and gain > 0):
        raise ValueError(
            f"DeltaOrthogonal's gain must be a finite number > 0, but got "
            f"gain={gain!r}. Pass e.g. gain=1.0, which keeps a linear "
            f"convolution's signal norm."
        )
    return float(gain)


def _check_shape(shape):
    """`shape` as a tuple of ints if it has >= 2 positive dims; a ValueError if not."""
    shape = tuple(shape)
    if len(shape) < 2 or not all(
        isinstance(dim, numbers.Integral) and dim > 0 for dim in shape
    ):
        raise ValueError(
            f"DeltaOrthogonal initializes kernels of shape kernel_size + "
            f"(in_channels, out_channels), at least 2 positive dimensions, but "
            f"got shape={shape}. Use it for Conv1D/2D/3D kernels (a Dense "
            f"kernel (in, out) works too); initialize biases and other 1-D "
            f"weights with 'zeros' or 'ones'."
        )
    return tuple(int(dim) for dim in shape)


def _check_dtype(dtype):
    """`dtype`, None meaning `keras.backend.floatx()`, if it is a float dtype."""
    dtype = keras.backend.standardize_dtype(dtype or keras.backend.floatx())
    if not keras.backend.is_float_dtype(dtype):
        raise ValueError(
            f"DeltaOrthogonal draws floating-point kernels, but was asked for "
            f"dtype={dtype!r}. Pass a float dtype such as 'float32', or leave "
            f"dtype=None for keras.backend.floatx()."
        )
    return dtype
