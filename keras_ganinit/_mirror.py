"""Building an extractor's mirror: the same computation run back to its input."""

import math

import keras
from keras import layers

from keras_ganinit._layers import leaf_layers, single_input_shape
from keras_ganinit._tied import TIED_CONV_TRANSPOSE, TiedDense

_SKIPPED = (
    layers.Dropout,
    layers.SpatialDropout1D,
    layers.SpatialDropout2D,
    layers.SpatialDropout3D,
    layers.GaussianNoise,
    layers.GaussianDropout,
    layers.AlphaDropout,
    layers.ActivityRegularization,
)
_COPIED_IN_PLACE = (
    layers.BatchNormalization,
    layers.LayerNormalization,
    layers.GroupNormalization,
    layers.UnitNormalization,
    layers.Activation,
    layers.ReLU,
    layers.LeakyReLU,
    layers.ELU,
    layers.PReLU,
    layers.Softmax,
)
_CONV_TRANSPOSE = {
    1: layers.Conv1DTranspose,
    2: layers.Conv2DTranspose,
    3: layers.Conv3DTranspose,
}
_UPSAMPLING = {1: layers.UpSampling1D, 2: layers.UpSampling2D, 3: layers.UpSampling3D}
_ZERO_PADDING = {
    1: layers.ZeroPadding1D,
    2: layers.ZeroPadding2D,
    3: layers.ZeroPadding3D,
}
_CROPPING = {1: layers.Cropping1D, 2: layers.Cropping2D, 3: layers.Cropping3D}
_CONV = (layers.Conv1D, layers.Conv2D, layers.Conv3D)
_POOLING = (
    layers.MaxPooling1D,
    layers.MaxPooling2D,
    layers.MaxPooling3D,
    layers.AveragePooling1D,
    layers.AveragePooling2D,
    layers.AveragePooling3D,
)
_GLOBAL_POOLING = (
    layers.GlobalMaxPooling1D,
    layers.GlobalMaxPooling2D,
    layers.GlobalMaxPooling3D,
    layers.GlobalAveragePooling1D,
    layers.GlobalAveragePooling2D,
    layers.GlobalAveragePooling3D,
)


def build_mirror(extractor, tied=False):
    """Builds the decoder that runs `extractor`'s computation backwards.

    Dense goes back to the previous width, ConvND to ConvNDTranspose with the
    same kernel size, strides and padding, pooling to upsampling, Flatten and
    Reshape to Reshape, ZeroPadding and Cropping to each other; normalization
    and activation layers are mirrored in place, dropout and noise skipped.
    The activation that ends the extractor is not applied a second time, and
    the mirror's last layer is linear. Its output has the extractor input's
    exact shape, odd sizes included.

    With `tied=True` the Dense and ConvNDTranspose mirrors own only their
    biases and reuse the extractor's kernels, transposed (`_tied.py`); call
    `_tied.attach(decoder, extractor)` before running the decoder.

    Args:
        extractor: a single-input `keras.Model` whose layers form one chain.
        tied: whether the mirror reuses the extractor's kernels.

    Returns:
        A built `keras.Sequential` from the extractor's output shape to its
        input shape.
    """
    input_shape = single_input_shape(extractor, "extractor")
    chain = list(leaf_layers(extractor))
    shapes = [(None, *input_shape)]
    for layer in chain:
        try:
            shapes.append(tuple(layer.compute_output_shape(shapes[-1])))
        except Exception as error:
            raise ValueError(
                f"The extractor {extractor.name!r} cannot be mirrored "
                f"automatically: traced as a single chain of layers, it fails at "
                f"layer {layer.name!r} ({type(layer).__name__}): {error}. Models "
                f"with branches or merges need decoder= passed to GanInitModel."
            ) from error
    expected = tuple(extractor.outputs[0].shape)
    if tuple(shapes[-1][1:]) != tuple(expected[1:]):
        raise ValueError(
            f"The extractor {extractor.name!r} is not a single chain of layers "
            f"(tracing its layers in order gives {shapes[-1]}, its output is "
            f"{expected}), so it cannot be mirrored automatically. Pass decoder= "
            f"to GanInitModel."
        )

    mirrored = []
    for layer, in_shape, out_shape in reversed(
        list(zip(chain, shapes[:-1], shapes[1:], strict=True))
    ):
        mirrored.extend(_mirror_layer(layer, in_shape, out_shape, tied))
    while mirrored and _is_activation(mirrored[0]):
        mirrored.pop(0)

    decoder = keras.Sequential(
        [keras.Input(shapes[-1][1:]), *mirrored], name=f"{extractor.name}_mirror"
    )
    if tuple(decoder.output_shape[1:]) != tuple(input_shape):
        raise ValueError(
            f"The automatic mirror of {extractor.name!r} outputs shape "
            f"{decoder.output_shape[1:]} instead of the input shape "
            f"{input_shape}. Pass decoder= to GanInitModel."
        )
    return decoder


def _is_activation(layer):
    return isinstance(
        layer,
        (layers.Activation, layers.ReLU, layers.LeakyReLU, layers.ELU, layers.Softmax),
    )


def _mirror_name(layer):
    return f"{layer.name}_mirror"


def _split_activation(layer):
    """The in-place activation layer for a layer with a fused activation."""
    activation = getattr(layer, "activation", None)
    if activation is None or activation is keras.activations.linear:
        return []
    return [layers.Activation(activation, name=f"{layer.name}_mirror_activation")]


def _mirror_layer(layer, in_shape, out_shape, tied=False):
    """Returns the mirror of one layer as a list, in the decoder's order."""
    if isinstance(layer, _SKIPPED):
        return []
    if isinstance(layer, _COPIED_IN_PLACE):
        config = layer.get_config()
        config["name"] = _mirror_name(layer)
        return [type(layer).from_config(config)]
    if isinstance(layer, layers.Dense):
        if tied:
            core = TiedDense(
                in_shape[-1],
                tied_to=layer.name,
                use_bias=layer.use_bias,
                name=_mirror_name(layer),
            )
        else:
            core = layers.Dense(
                in_shape[-1], use_bias=layer.use_bias, name=_mirror_name(layer)
            )
        return [*_split_activation(layer), core]
    if isinstance(layer, _CONV):
        if tied and getattr(layer, "groups", 1) != 1:
            raise ValueError(
                f"Layer {layer.name!r} is a grouped convolution (groups="
                f"{layer.groups}); its kernel cannot be reused by a transposed "
                f"convolution. Pass tied_weights=False, or decoder= with your own "
                f"mirror."
            )
        mirror = _mirror_conv(layer, in_shape, out_shape, tied)
        return [*_split_activation(layer), *mirror]
    if isinstance(layer, _POOLING):
        return _mirror_pooling(layer, in_shape, out_shape)
    if isinstance(layer, _GLOBAL_POOLING):
        return _mirror_global_pooling(layer, in_shape)
    if isinstance(layer, (layers.Flatten, layers.Reshape)):
        return [layers.Reshape(in_shape[1:], name=_mirror_name(layer))]
    if isinstance(layer, layers.Permute):
        inverse = [0] * len(layer.dims)
        for position, dim in enumerate(layer.dims):
            inverse[dim - 1] = position + 1
        return [layers.Permute(tuple(inverse), name=_mirror_name(layer))]
    for rank in (1, 2, 3):
        if isinstance(layer, _ZERO_PADDING[rank]):
            return [_CROPPING[rank](layer.padding, name=_mirror_name(layer))]
        if isinstance(layer, _CROPPING[rank]):
            return [_ZERO_PADDING[rank](layer.cropping, name=_mirror_name(layer))]
    raise ValueError(
        f"Cannot mirror layer {layer.name!r} of class {type(layer).__name__}: "
        f"the automatic mirror knows Dense, Conv1D/2D/3D, pooling, Flatten, "
        f"Reshape, Permute, padding/cropping, normalization, activation and "
        f"dropout layers. Pass decoder= to GanInitModel with a model that maps "
        f"the extractor's output back to its input shape."
    )


def _spatial_axes(rank, data_format):
    return (
        list(range(2, 2 + rank))
        if data_format == "channels_first"
        else list(range(1, 1 + rank))
    )


def _channel_axis(data_format):
    return 1 if data_format == "channels_first" else -1


def _fit_spatial(shape, target, rank, data_format, name):
    """Crops or zero-pads at the far end so `shape`'s spatial sizes hit `target`."""
    axes = _spatial_axes(rank, data_format)
    crop = [(0, max(shape[a] - target[a], 0)) for a in axes]
    pad = [(0, max(target[a] - shape[a], 0)) for a in axes]
    fixes = []
    if any(c[1] for c in crop):
        fixes.append(
            _CROPPING[rank](
                crop[0] if rank == 1 else tuple(crop),
                name=f"{name}_crop",
                **({} if rank == 1 else {"data_format": data_format}),
            )
        )
    if any(p[1] for p in pad):
        fixes.append(
            _ZERO_PADDING[rank](
                pad[0] if rank == 1 else tuple(pad),
                name=f"{name}_pad",
                **({} if rank == 1 else {"data_format": data_format}),
            )
        )
    return fixes


def _transpose_length(length, kernel, stride, padding, dilation, output_padding):
    kernel = kernel + (kernel - 1) * (dilation - 1)
    pad = kernel // 2 if padding == "same" else 0
    return (length - 1) * stride + kernel - 2 * pad + output_padding


def _mirror_conv(layer, in_shape, out_shape, tied=False):
    rank = len(layer.kernel_size)
    data_format = layer.data_format
    padding = "same" if layer.padding == "causal" else layer.padding
    axes = _spatial_axes(rank, data_format)

    def transpose(output_padding):
        tie = {"tied_to": layer.name} if tied else {}
        return (TIED_CONV_TRANSPOSE if tied else _CONV_TRANSPOSE)[rank](
            **tie,
            filters=in_shape[_channel_axis(data_format)],
            kernel_size=layer.kernel_size,
            strides=layer.strides,
            padding=padding,
            output_padding=output_padding,
            dilation_rate=layer.dilation_rate,
            data_format=data_format,
            use_bias=layer.use_bias,
            name=_mirror_name(layer),
        )

    # Keras's own output size first; else the output_padding (< stride) that
    # gives back each spatial size; whatever is still off is cropped or padded.
    mirror = transpose(None)
    shape = tuple(mirror.compute_output_shape(out_shape))
    if shape != tuple(in_shape):
        output_padding = []
        for i, axis in enumerate(axes):
            stride, dilation = layer.strides[i], layer.dilation_rate[i]
            choices = [
                op
                for op in range(max(stride, dilation))
                if _transpose_length(
                    out_shape[axis], layer.kernel_size[i], stride, padding, dilation, op
                )
                == in_shape[axis]
            ]
            output_padding.append(choices[0] if choices else 0)
        mirror = transpose(tuple(output_padding))
        shape = tuple(mirror.compute_output_shape(out_shape))
    return [mirror, *_fit_spatial(shape, in_shape, rank, data_format, layer.name)]


def _mirror_pooling(layer, in_shape, out_shape):
    rank = len(layer.pool_size)
    data_format = layer.data_format
    axes = _spatial_axes(rank, data_format)
    size = tuple(
        max(1, math.ceil(in_shape[a] / out_shape[a])) if out_shape[a] else 1
        for a in axes
    )
    upsampling_kwargs = {} if rank == 1 else {"data_format": data_format}
    upsampling = _UPSAMPLING[rank](
        size[0] if rank == 1 else size, name=_mirror_name(layer), **upsampling_kwargs
    )
    shape = tuple(upsampling.compute_output_shape(out_shape))
    return [upsampling, *_fit_spatial(shape, in_shape, rank, data_format, layer.name)]


def _mirror_global_pooling(layer, in_shape):
    rank = len(in_shape) - 2
    data_format = layer.data_format
    channels = in_shape[_channel_axis(data_format)]
    ones = (1,) * rank
    keep = (channels, *ones) if data_format == "channels_first" else (*ones, channels)
    size = tuple(in_shape[a] for a in _spatial_axes(rank, data_format))
    upsampling_kwargs = {} if rank == 1 else {"data_format": data_format}
    mirrored = []
    if not getattr(layer, "keepdims", False):
        mirrored.append(layers.Reshape(keep, name=f"{layer.name}_mirror_reshape"))
    mirrored.append(
        _UPSAMPLING[rank](
            size[0] if rank == 1 else size,
            name=_mirror_name(layer),
            **upsampling_kwargs,
        )
    )
    return mirrored
