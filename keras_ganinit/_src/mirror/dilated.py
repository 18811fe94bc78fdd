"""Dilated transposed convolutions that every TensorFlow CPU kernel can run.

TensorFlow's Eigen CPU kernels (every x86 CPU without AVX-512, or anywhere with
`TF_ENABLE_ONEDNN_OPTS=0`) refuse a transposed convolution with a dilation
rate above 1: "Current CPU implementations do not yet support dilation rates
larger than 1". The mirror of a dilated convolution is such a layer.

A transposed convolution with kernel `k` and dilation `d` is the same map as
one with dilation 1 and the *explicitly dilated* kernel: `d - 1` zeros between
neighbouring taps along each spatial axis (Keras computes the output size and
the padding from the dilated kernel size `(k - 1) * d + 1` in both cases).
`DilatedConv{1,2,3}DTranspose` are Keras's `Conv{1,2,3}DTranspose` with that
formulation on the TensorFlow backend; their variables, config and output
shape are Keras's own, and JAX and PyTorch keep the native dilated call.
Keras refuses strides above 1 together with dilation above 1, so the explicit
form only ever runs at stride 1.
"""

import keras
from keras import layers, ops


def dilate_kernel(kernel, dilation_rate):
    """`kernel` (`(*spatial, a, b)`) with `rate - 1` zeros between its taps.

    Args:
        kernel: a tensor whose leading axes are the spatial ones.
        dilation_rate: one integer per spatial axis.

    Returns:
        A tensor of spatial sizes `(k - 1) * rate + 1`, equal to `kernel` at
        every `rate`-th tap and zero between them.
    """
    for axis, rate in enumerate(dilation_rate):
        if rate == 1:
            continue
        shape = tuple(kernel.shape)
        taps = shape[axis]
        gaps = ops.zeros((*shape[: axis + 1], rate - 1, *shape[axis + 1 :]))
        spread = ops.concatenate(
            [ops.expand_dims(kernel, axis + 1), ops.cast(gaps, kernel.dtype)],
            axis=axis + 1,
        )
        spread = ops.reshape(spread, (*shape[:axis], taps * rate, *shape[axis + 1 :]))
        kernel = spread[(slice(None),) * axis + (slice(0, (taps - 1) * rate + 1),)]
    return kernel


class ExplicitDilation:
    """Runs a dilated transposed convolution with an explicitly dilated kernel.

    Mixed in before a Keras `ConvNDTranspose` class. Only the call differs,
    and only on the TensorFlow backend at a dilation rate above 1.
    """

    def call(self, inputs):
        if keras.backend.backend() != "tensorflow" or max(self.dilation_rate) == 1:
            return super().call(inputs)
        outputs = ops.conv_transpose(
            inputs,
            dilate_kernel(self.kernel, self.dilation_rate),
            strides=list(self.strides),
            padding=self.padding,
            output_padding=self.output_padding,
            dilation_rate=1,
            data_format=self.data_format,
        )
        if self.use_bias:
            channels = (self.filters,)
            ones = (1,) * self.rank
            shape = (
                (1, *ones, *channels)
                if self.data_format == "channels_last"
                else (1, *channels, *ones)
            )
            outputs = ops.add(outputs, ops.reshape(self.bias, shape))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


def _explicitly_dilated(base):
    class Dilated(ExplicitDilation, base):
        pass

    name = f"Dilated{base.__name__}"
    Dilated.__name__ = Dilated.__qualname__ = name
    Dilated.__doc__ = (
        f"A `{base.__name__}` that TensorFlow's Eigen CPU kernels run at a "
        f"dilation rate above 1 (the kernel is dilated explicitly)."
    )
    return keras.saving.register_keras_serializable(package="keras_ganinit")(Dilated)


# Keras's transposed convolutions by rank, and `per_rank(make)`: a class
# made from each of them (this module's and tied.py's variants).
CONV_TRANSPOSE = {
    1: layers.Conv1DTranspose,
    2: layers.Conv2DTranspose,
    3: layers.Conv3DTranspose,
}


def per_rank(make):
    """{rank: make(Keras's ConvNDTranspose of that rank)}, for ranks 1 to 3."""
    return {rank: make(base) for rank, base in CONV_TRANSPOSE.items()}


DILATED_CONV_TRANSPOSE = per_rank(_explicitly_dilated)
DilatedConv1DTranspose, DilatedConv2DTranspose, DilatedConv3DTranspose = (
    DILATED_CONV_TRANSPOSE.values()
)
