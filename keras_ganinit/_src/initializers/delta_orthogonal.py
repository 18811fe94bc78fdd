"""DeltaOrthogonal: an orthogonal centre tap, zeros elsewhere, for deep plain CNNs."""

import keras

from keras_ganinit._src.initializers.checks import (
    check_dtype,
    check_gain,
    check_shape,
    drawn_in_float32,
)
from keras_ganinit._src.initializers.taps import at_centre_tap
from keras_ganinit._src.utils.checks import Seed, check_seed, seed_config


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
        seed: An integer to make the kernel reproducible, `None` for a
            random draw made once per instance, or a
            `keras.random.SeedGenerator` (each call draws anew from it), as
            Keras's own initializers take. Stored as given, so
            `get_config()` returns it unchanged (a SeedGenerator serialized).

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

    def __init__(self, gain: float = 1.0, seed: Seed = None) -> None:
        self.gain = check_gain(gain, "DeltaOrthogonal")
        self.seed = check_seed(seed, "DeltaOrthogonal's ", "a reproducible kernel")
        # Made once, so that an unseeded instance draws its seed once, as
        # Keras's own random initializers do.
        self._orthogonal = keras.initializers.Orthogonal(gain=self.gain, seed=self.seed)

    def __call__(self, shape, dtype=None):
        shape = check_shape(shape, "DeltaOrthogonal")
        dtype = check_dtype(dtype, "DeltaOrthogonal")
        return drawn_in_float32(self._draw, shape, dtype, self.gain, "DeltaOrthogonal")

    def _draw(self, shape, dtype):
        kernel_size, channels = shape[:-2], shape[-2:]
        centre = self._orthogonal(channels, dtype=dtype)
        return at_centre_tap(centre, kernel_size, dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "gain": self.gain,
            "seed": seed_config(self.seed),
        }
