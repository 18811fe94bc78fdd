"""LooksLinear: mirrored orthogonal kernels that make a deep ReLU net start linear."""

import keras
import numpy as np
from keras import ops

from keras_ganinit._src.initializers.checks import (
    check_dtype,
    check_gain,
    check_shape,
    drawn_in_float32,
)
from keras_ganinit._src.initializers.taps import at_centre_tap
from keras_ganinit._src.utils.checks import Seed, check_flag, check_seed, seed_config


@keras.saving.register_keras_serializable(package="keras_ganinit")
class LooksLinear(keras.initializers.Initializer):
    """Looks-linear initializer for Dense and convolution kernels.

    A looks-linear network (Balduzzi et al. 2017) is a plain network whose
    layers put out mirrored pairs of units, `[z, -z]`. Through an activation
    with `f(z) - f(-z) = z` (ReLU, GELU, SiLU/swish, softplus; leaky ReLU
    up to a factor), the next layer can then undo the non-linearity exactly:
    with the kernel `[[M, -M], [-M, M]]` it computes
    `M (f(z) - f(-z)) = M z`. So at initialization the whole network is a
    deep *linear* orthogonal map, and its gradients neither vanish nor
    shatter with depth, while it is free to become non-linear as it trains.

    Its form depends on where the layer's input comes from:

    - `mirrored_input=False` (the first kernel layer, or one after a layer
      that is not looks-linear, e.g. after pooling or Flatten): the kernel,
      read as a `(fan_in, units)` matrix (`fan_in` = the product of every
      axis but the last), is `[N, -N]` with `N` an orthogonal
      `(fan_in, units / 2)` matrix times `gain`.
    - `mirrored_input=True` (the input is the previous looks-linear layer's
      activated output, `[f(z), f(-z)]`): the kernel is
      `[[M, -M], [-M, M]]` with `M` an orthogonal `(in / 2, units / 2)`
      matrix times `gain`; a convolution gets it at its centre tap (index
      `k // 2` along every spatial axis) and zeros elsewhere, as
      `DeltaOrthogonal` does.

    `mirrored_output=False` is for the layer that ends the looks-linear
    stretch (a classifier's head, or a layer with an odd number of units or
    an activation that does not mirror): it puts out `z` itself, not
    `[z, -z]`. After a looks-linear layer its kernel is `[M; -M]` (so it
    computes `M (f(z) - f(-z)) = M z`); otherwise it is a plain orthogonal
    kernel, as `keras.initializers.Orthogonal` draws it.

    `mirrored_output=True` needs an even number of output units, and
    `mirrored_input=True` an even number of input channels. Use zero biases.
    `M` and `N` are drawn as `keras.initializers.Orthogonal` draws them.

    Learning rate: a looks-linear net of depth L starts as a product of L
    orthogonal maps, and one SGD step moves its function about L times as
    far as it moves one layer's. Measured (docs/deep-networks.md), plain
    deep nets trained best with the learning rate of a shallow one times
    `min(1, 16 / depth)` (MLPs) or `min(1, 8 / depth)` (CNNs).

    `keras_ganinit.calibrate(model, x, looks_linear=True)` chooses the form
    for every layer from the model's graph and then gives each layer
    centred unit-variance outputs on data, which keeps the mirror.

    Like Keras's random initializers, one instance returns the same kernel
    at every call, seeded or not: give each layer its own instance (or its
    own seed) so that the layers differ.

    Args:
        mirrored_input: whether the layer's input is a looks-linear layer's
            activated output (see above).
        mirrored_output: whether the layer puts out mirrored pairs
            `[z, -z]` for a looks-linear layer after it (True), or ends the
            looks-linear stretch (False).
        gain: a finite number > 0 that multiplies `M` or `N`.
        seed: an integer to make the kernel reproducible, `None` for a
            random draw made once per instance, or a
            `keras.random.SeedGenerator` (each call draws anew from it), as
            Keras's own initializers take.

    Reference:
        Balduzzi, Frean, Leary, Lewis, Ma and McWilliams, "The Shattered
        Gradients Problem: If resnets are the answer, then what is the
        question?", ICML 2017 (arXiv:1702.08591).

    Example:

    >>> import keras
    >>> import numpy as np
    >>> from keras_ganinit.initializers import LooksLinear
    >>> first = keras.layers.Dense(
    ...     8, activation="relu", kernel_initializer=LooksLinear(seed=0))
    >>> second = keras.layers.Dense(
    ...     8, activation="relu",
    ...     kernel_initializer=LooksLinear(mirrored_input=True, seed=1))
    >>> head = keras.layers.Dense(3, kernel_initializer=LooksLinear(
    ...     mirrored_input=True, mirrored_output=False, seed=2))
    >>> model = keras.Sequential([keras.Input((6,)), first, second, head])
    >>> x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    >>> n, m, k = (keras.ops.convert_to_numpy(layer.kernel)
    ...            for layer in (first, second, head))
    >>> # The ReLUs cancel out: the net starts as a product of matrices.
    >>> product = n[:, :4] @ m[:4, :4] @ k[:4]
    >>> y = keras.ops.convert_to_numpy(model(x))
    >>> bool(np.allclose(y, x @ product, atol=1e-5))
    True
    """

    def __init__(
        self,
        mirrored_input: bool = False,
        mirrored_output: bool = True,
        gain: float = 1.0,
        seed: Seed = None,
    ) -> None:
        self.mirrored_input = check_flag(
            mirrored_input,
            "mirrored_input",
            "Pass True when the layer's input is a looks-linear layer's "
            "activated output, False otherwise.",
            "LooksLinear's ",
        )
        self.mirrored_output = check_flag(
            mirrored_output,
            "mirrored_output",
            "Pass True when a looks-linear layer follows this one, False for "
            "the last layer of the looks-linear stretch (e.g. the head).",
            "LooksLinear's ",
        )
        self.gain = check_gain(gain, "LooksLinear")
        self.seed = check_seed(seed, "LooksLinear's ", "a reproducible kernel")
        # Made once, so that an unseeded instance draws its seed once, as
        # Keras's own random initializers do.
        self._orthogonal = keras.initializers.Orthogonal(gain=self.gain, seed=self.seed)

    def __call__(self, shape, dtype=None):
        shape = check_shape(shape, "LooksLinear")
        dtype = check_dtype(dtype, "LooksLinear")
        self._check_units(shape)
        return drawn_in_float32(self._draw, shape, dtype, self.gain, "LooksLinear")

    def _check_units(self, shape):
        channels, units = shape[-2:]
        if units % 2 and self.mirrored_output:
            raise ValueError(
                f"LooksLinear puts out mirrored pairs of units, so it needs an "
                f"even number of output units, but got shape={shape} "
                f"({units} units). Give the layer an even number of units or "
                f"filters, or pass mirrored_output=False if it ends the "
                f"looks-linear stretch (e.g. a classifier's head)."
            )
        if self.mirrored_input and channels % 2:
            raise ValueError(
                f"LooksLinear(mirrored_input=True) reads its input as mirrored "
                f"pairs, so it needs an even number of input channels, but got "
                f"shape={shape} ({channels} input channels). Use "
                f"mirrored_input=False for a layer whose input is not a "
                f"looks-linear layer's output."
            )

    def _draw(self, shape, dtype):
        kernel_size, (channels, units) = shape[:-2], shape[-2:]
        if not self.mirrored_input:
            fan_in = int(np.prod(shape[:-1]))
            if not self.mirrored_output:
                return ops.reshape(self._orthogonal((fan_in, units), dtype), shape)
            half = self._orthogonal((fan_in, units // 2), dtype=dtype)
            return ops.reshape(ops.concatenate([half, -half], axis=1), shape)
        if self.mirrored_output:
            m = self._orthogonal((channels // 2, units // 2), dtype=dtype)
            m = ops.concatenate([m, -m], axis=1)
        else:
            m = self._orthogonal((channels // 2, units), dtype=dtype)
        centre = ops.concatenate([m, -m], axis=0)
        return at_centre_tap(centre, kernel_size, dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "mirrored_input": self.mirrored_input,
            "mirrored_output": self.mirrored_output,
            "gain": self.gain,
            "seed": seed_config(self.seed),
        }
