"""Building an extractor's mirror: the same computation run back to its input.

The extractor's graph is walked from its output back to its input. Each call
of a layer gets a mirror that maps the signal at its output shape back to
each of its inputs' shapes (`_RULES`, one small function per kind of layer):
merges (`Add`, `Multiply`, ...) send the signal back to every branch, a
`Concatenate` is split along its axis, and a tensor that several layers read
gets the mean of what they send back. Nested functional and Sequential models
are mirrored in place.
"""

import math
import warnings

import keras
from keras import layers

from keras_ganinit._src.graph.graph import (
    functional_of,
    is_graph_model,
    keyword_arguments,
    nodes,
)
from keras_ganinit._src.graph.layers import (
    ACTIVATION_LAYERS,
    NORMALIZATIONS,
    single_input_shape,
)
from keras_ganinit._src.mirror import sequence as _sequence
from keras_ganinit._src.mirror.dilated import CONV_TRANSPOSE, DILATED_CONV_TRANSPOSE
from keras_ganinit._src.mirror.layers import MirrorReduce, MirrorSlice
from keras_ganinit._src.mirror.tied import TIED_CONV_TRANSPOSE, TiedDense

_SKIPPED = (
    layers.Dropout,
    layers.SpatialDropout1D,
    layers.SpatialDropout2D,
    layers.SpatialDropout3D,
    layers.GaussianNoise,
    layers.GaussianDropout,
    layers.AlphaDropout,
    layers.ActivityRegularization,
    layers.Identity,
    layers.Masking,
)
_ACTIVATIONS = (layers.Activation, *ACTIVATION_LAYERS)
_CONV = {1: layers.Conv1D, 2: layers.Conv2D, 3: layers.Conv3D}
_DEPTHWISE = {1: layers.DepthwiseConv1D, 2: layers.DepthwiseConv2D}
_SEPARABLE = {1: layers.SeparableConv1D, 2: layers.SeparableConv2D}
_UPSAMPLING = {1: layers.UpSampling1D, 2: layers.UpSampling2D, 3: layers.UpSampling3D}
_ZERO_PADDING = {
    1: layers.ZeroPadding1D,
    2: layers.ZeroPadding2D,
    3: layers.ZeroPadding3D,
}
_CROPPING = {1: layers.Cropping1D, 2: layers.Cropping2D, 3: layers.Cropping3D}
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
_MERGES = (
    layers.Add,
    layers.Subtract,
    layers.Average,
    layers.Maximum,
    layers.Minimum,
    layers.Multiply,
)
# Layers with no mirror: a recurrent layer around a cell of your own (the
# recurrent layers Keras ships have theirs in sequence.py).
_REFUSED = (layers.RNN,)


def build_mirror(extractor, tied=False):
    """Builds the decoder that runs `extractor`'s computation backwards.

    Dense goes back to the previous width, ConvND to ConvNDTranspose with the
    same kernel size, strides and padding, pooling to upsampling, Flatten and
    Reshape to Reshape, ZeroPadding and Cropping to each other, Rescaling and
    Normalization to their inverses; normalization and activation layers
    are mirrored in place, dropout and noise skipped. Depthwise, separable
    and grouped convolutions, which have no transposed form in Keras, become
    upsampling followed by a convolution of the same kind. Merges send the
    signal back to every branch, Concatenate is split, and a tensor read by
    several layers gets the mean of what they send back. A layer that keeps
    its input's shape and is not known here (ConvNeXt's LayerScale) is
    mirrored by the identity. The activation that ends the extractor is not
    applied a second time. The output has the extractor input's exact
    shape, odd sizes included.

    With `tied=True` the Dense and ConvNDTranspose mirrors own only their
    biases and reuse the extractor's kernels, transposed (`_tied.py`); call
    `_tied.attach(decoder, extractor)` before running the decoder. Layers
    with no transposed form keep their own kernels, with a warning.

    Args:
        extractor: a functional or Sequential `keras.Model` with one input
            and one output.
        tied: whether the mirror reuses the extractor's kernels.

    Returns:
        A built functional `keras.Model` from the extractor's output shape to
        its input shape.
    """
    input_shape = single_input_shape(extractor, "extractor")
    if functional_of(extractor) is None:
        raise ValueError(
            f"The extractor {extractor.name!r} is a subclassed model, whose layer "
            f"graph Keras does not record, so it cannot be mirrored "
            f"automatically. Build it as a functional or Sequential model, or "
            f"pass decoder= to GanInitModel."
        )
    builder = _Builder(tied, extractor)
    features = keras.Input(tuple(extractor.outputs[0].shape[1:]))
    output = builder.mirror_model(extractor, features, raw=True)
    if tied and builder.untied:
        warnings.warn(
            f"mirror(tied=True): the mirrors of {', '.join(builder.untied)} keep "
            f"kernels of their own, since Keras has no transposed form of these "
            f"layers that could reuse the extractor's kernel. Every Dense and "
            f"ungrouped Conv mirror is tied.",
            UserWarning,
            stacklevel=3,
        )
    decoder = keras.Model(features, output, name=f"{extractor.name}_mirror")
    expected = tuple(input_shape)
    if builder.token_logits:  # the token ids' shape, then the vocabulary
        expected = (*expected, decoder.output_shape[-1])
    if tuple(decoder.output_shape[1:]) != expected:
        raise ValueError(
            f"The automatic mirror of {extractor.name!r} outputs shape "
            f"{decoder.output_shape[1:]} instead of {expected}"
            + (
                " (the token ids' shape, then token logits)"
                if builder.token_logits
                else " (the input shape)"
            )
            + ". Pass decoder= to GanInitModel."
        )
    return decoder


class _Builder:
    """Builds the mirror of one extractor: unique names, tied-weight notes."""

    def __init__(self, tied, extractor):
        self.tied = tied
        self.untied = []
        self._names = set()
        self._keywords = {}  # id(output tensor) -> the call's keyword arguments
        self._input = id(extractor.inputs[0])
        # Whether the mirror ends in token logits (an Embedding's mirror).
        self.token_logits = False

    def cannot(self, layer, why):
        """The error for a layer this mirror cannot go back through."""
        return _cannot_mirror(layer, why)

    def keywords(self, output):
        """The non-tensor keyword arguments of the call that gave `output`."""
        return self._keywords.get(id(output), ({}, set()))[0]

    def data_inputs(self, inputs, output):
        """`inputs` of the call that gave `output`, less its mask tensors."""
        masks = self._keywords.get(id(output), ({}, set()))[1]
        return [t for t in inputs if id(t) not in masks]

    def reads_input(self, tensor):
        """Whether `tensor` is the extractor's own input."""
        return id(tensor) == self._input

    def name(self, base):
        name, count = base, 1
        while name in self._names:
            count += 1
            name = f"{base}_{count}"
        self._names.add(name)
        return name

    def mirror_model(self, model, signal, raw):
        """The signal sent back to `model`'s input from `signal` at its output.

        `raw`: the signal stands for the model's final output, so an
        activation there is not applied again.
        """
        self._keywords.update(keyword_arguments(model))
        sends = {id(model.outputs[0]): [signal]}
        raw_tensors = {id(model.outputs[0])} if raw else set()
        for operation, inputs, outputs in reversed(nodes(model)):
            arriving = [sends.pop(id(tensor), None) for tensor in outputs]
            if all(a is None for a in arriving):
                continue  # a branch that does not reach the output
            if len(outputs) != 1:
                raise _cannot_mirror(
                    operation, f"it has {len(outputs)} outputs", model.name
                )
            here = self.merge(arriving[0], operation.name)
            backs, raw_inputs = self.mirror_call(
                operation, inputs, outputs[0], here, id(outputs[0]) in raw_tensors
            )
            for tensor, back in zip(inputs, backs, strict=True):
                if back is None:
                    continue
                sends.setdefault(id(tensor), []).append(back)
                if raw_inputs:
                    raw_tensors.add(id(tensor))
        arriving = sends.get(id(model.inputs[0]))
        if arriving is None:
            raise ValueError(
                f"The output of {model.name!r} does not depend on its input, so "
                f"it cannot be mirrored. Pass decoder= to GanInitModel."
            )
        return self.merge(arriving, f"{model.name}_input")

    def merge(self, signals, base):
        """A tensor read by several layers gets the mean of what they send."""
        if len(signals) == 1:
            return signals[0]
        return layers.Average(name=self.name(f"{base}_fanout_mirror"))(signals)

    def mirror_call(self, operation, inputs, output, signal, raw):
        """One call's mirror: (a signal or None per input, whether they are raw)."""
        if is_graph_model(operation):
            if len(inputs) != 1:
                raise _cannot_mirror(operation, "it takes several inputs")
            return [self.mirror_model(operation, signal, raw)], False
        for classes, rule in _RULES:
            if isinstance(operation, classes):
                return rule(self, operation, inputs, output, signal, raw)
        return _unknown(self, operation, inputs, output, signal, raw)

    def apply(self, mirror_layers, signal):
        for layer in mirror_layers:
            signal = layer(signal)
        return signal


def _cannot_mirror(operation, why, model_name=None):
    where = f" of {model_name!r}" if model_name else ""
    return ValueError(
        f"Cannot mirror layer {operation.name!r}{where} of class "
        f"{type(operation).__name__}: {why}. The automatic mirror knows "
        f"{_KNOWN}, and any layer that keeps its input's shape. Pass decoder= "
        f"to GanInitModel with a model that maps the extractor's output back to "
        f"its input shape."
    )


def _shape(tensor):
    return tuple(tensor.shape)


def _single(build):
    """A rule from a function that returns the mirror layers of a 1-input layer."""

    def rule(builder, layer, inputs, output, signal, raw):
        if len(inputs) != 1:
            raise _cannot_mirror(layer, f"it takes {len(inputs)} inputs")
        mirror_layers = build(builder, layer, _shape(inputs[0]), _shape(output), raw)
        return [builder.apply(mirror_layers, signal)], False

    rule.build = build  # for TimeDistributed, which runs it at every step
    return rule


def _time_distributed(builder, layer, inputs, output, signal, raw):
    """TimeDistributed(layer): the wrapped layer's mirror, at every step."""
    inner = layer.layer
    build = next(
        (
            getattr(rule, "build", None)
            for classes, rule in _RULES
            if isinstance(inner, classes)
        ),
        None,
    )
    if build is None or len(inputs) != 1:
        raise _cannot_mirror(
            layer,
            f"it wraps a {type(inner).__name__}, which has no mirror that runs "
            f"at each step",
        )

    def step(shape):
        return (shape[0], *shape[2:])

    tied, builder.tied = builder.tied, False  # a wrapped layer is not tied
    if tied:
        builder.untied.append(f"{layer.name!r} (TimeDistributed)")
    try:
        mirror_layers = build(
            builder, inner, step(_shape(inputs[0])), step(_shape(output)), raw
        )
    finally:
        builder.tied = tied
    wrapped = [
        layers.TimeDistributed(m, name=builder.name(f"{layer.name}_mirror"))
        for m in mirror_layers
    ]
    return [builder.apply(wrapped, signal)], False


def _skipped(builder, layer, inputs, output, signal, raw):
    return [signal], raw


def _activation(builder, layer, inputs, output, signal, raw):
    if raw:  # the extractor's last activation is not applied again
        return [signal], True
    return [_copy(builder, layer)(signal)], False


def _copy(builder, layer):
    config = layer.get_config()
    config["name"] = builder.name(f"{layer.name}_mirror")
    return type(layer).from_config(config)


def _normalization(builder, layer, in_shape, out_shape, raw):
    return [_copy(builder, layer)]


def _split_activation(builder, layer, raw):
    """The in-place activation layer for a layer with a fused activation."""
    activation = getattr(layer, "activation", None)
    if raw or activation is None or activation is keras.activations.linear:
        return []
    return [
        layers.Activation(
            activation, name=builder.name(f"{layer.name}_mirror_activation")
        )
    ]


def _dense(builder, layer, in_shape, out_shape, raw):
    name = builder.name(f"{layer.name}_mirror")
    if builder.tied:
        core = TiedDense(
            in_shape[-1], tied_to=layer.name, use_bias=layer.use_bias, name=name
        )
    else:
        core = layers.Dense(in_shape[-1], use_bias=layer.use_bias, name=name)
    return [*_split_activation(builder, layer, raw), core]


def _conv(builder, layer, in_shape, out_shape, raw):
    activation = _split_activation(builder, layer, raw)
    if getattr(layer, "groups", 1) == 1:
        return [*activation, *_conv_transpose(builder, layer, in_shape, out_shape)]
    channels = in_shape[_channel_axis(layer.data_format)]
    if builder.tied:
        builder.untied.append(f"{layer.name!r} (grouped Conv)")
    if layer.groups == channels == layer.filters and len(layer.kernel_size) < 3:
        core = _DEPTHWISE[len(layer.kernel_size)](
            **_conv_args(builder, layer), depth_multiplier=1
        )
    else:
        core = _CONV[len(layer.kernel_size)](
            channels, groups=layer.groups, **_conv_args(builder, layer)
        )
    return [*activation, *_upsampled(builder, layer, in_shape, out_shape, core)]


def _depthwise(builder, layer, in_shape, out_shape, raw):
    channels = in_shape[_channel_axis(layer.data_format)]
    rank = len(layer.kernel_size)
    if builder.tied:
        builder.untied.append(f"{layer.name!r} ({type(layer).__name__})")
    if layer.depth_multiplier == 1:
        core = _DEPTHWISE[rank](**_conv_args(builder, layer), depth_multiplier=1)
    else:
        core = _SEPARABLE[rank](channels, **_conv_args(builder, layer))
    activation = _split_activation(builder, layer, raw)
    return [*activation, *_upsampled(builder, layer, in_shape, out_shape, core)]


def _separable(builder, layer, in_shape, out_shape, raw):
    channels = in_shape[_channel_axis(layer.data_format)]
    if builder.tied:
        builder.untied.append(f"{layer.name!r} ({type(layer).__name__})")
    core = _SEPARABLE[len(layer.kernel_size)](channels, **_conv_args(builder, layer))
    activation = _split_activation(builder, layer, raw)
    return [*activation, *_upsampled(builder, layer, in_shape, out_shape, core)]


def _conv_args(builder, layer):
    """Stride-1, "same" arguments for a learned mirror of a conv-like layer."""
    return {
        "name": builder.name(f"{layer.name}_mirror"),
        "kernel_size": layer.kernel_size,
        "padding": "same",
        "dilation_rate": layer.dilation_rate,
        "data_format": layer.data_format,
        "use_bias": layer.use_bias,
    }


def _upsampled(builder, layer, in_shape, out_shape, core):
    """Upsampling back to the input's size, an exact fit, then `core`."""
    return [*_upsampling(builder, layer, in_shape, out_shape, skip_unit=True), core]


def _pooling(builder, layer, in_shape, out_shape, raw):
    return _upsampling(builder, layer, in_shape, out_shape)


def _upsampling(builder, layer, in_shape, out_shape, skip_unit=False):
    rank = len(in_shape) - 2
    data_format = layer.data_format
    axes = _spatial_axes(rank, data_format)
    size = tuple(
        max(1, math.ceil(in_shape[a] / out_shape[a])) if out_shape[a] else 1
        for a in axes
    )
    upsampling = []
    shape = out_shape
    if not (skip_unit and all(s == 1 for s in size)):
        upsampling = [
            _UPSAMPLING[rank](
                size[0] if rank == 1 else size,
                name=builder.name(
                    f"{layer.name}_mirror_upsampling"
                    if skip_unit
                    else f"{layer.name}_mirror"
                ),
                **({} if rank == 1 else {"data_format": data_format}),
            )
        ]
        shape = tuple(upsampling[0].compute_output_shape(out_shape))
    return [
        *upsampling,
        *_fit_spatial(builder, shape, in_shape, rank, data_format, layer.name),
    ]


def _global_pooling(builder, layer, in_shape, out_shape, raw):
    rank = len(in_shape) - 2
    data_format = layer.data_format
    channels = in_shape[_channel_axis(data_format)]
    ones = (1,) * rank
    keep = (channels, *ones) if data_format == "channels_first" else (*ones, channels)
    size = tuple(in_shape[a] for a in _spatial_axes(rank, data_format))
    mirrored = []
    if not getattr(layer, "keepdims", False):
        mirrored.append(
            layers.Reshape(keep, name=builder.name(f"{layer.name}_mirror_reshape"))
        )
    mirrored.append(
        _UPSAMPLING[rank](
            size[0] if rank == 1 else size,
            name=builder.name(f"{layer.name}_mirror"),
            **({} if rank == 1 else {"data_format": data_format}),
        )
    )
    return mirrored


def _reshape(builder, layer, in_shape, out_shape, raw):
    return [layers.Reshape(in_shape[1:], name=builder.name(f"{layer.name}_mirror"))]


def _permute(builder, layer, in_shape, out_shape, raw):
    inverse = [0] * len(layer.dims)
    for position, dim in enumerate(layer.dims):
        inverse[dim - 1] = position + 1
    return [layers.Permute(tuple(inverse), name=builder.name(f"{layer.name}_mirror"))]


def _padding_or_cropping(builder, layer, in_shape, out_shape, raw):
    rank = len(in_shape) - 2
    is_padding = isinstance(layer, _ZERO_PADDING[rank])
    amount = layer.padding if is_padding else layer.cropping
    kwargs = {} if rank == 1 else {"data_format": layer.data_format}
    inverse = (_CROPPING if is_padding else _ZERO_PADDING)[rank]
    return [inverse(amount, name=builder.name(f"{layer.name}_mirror"), **kwargs)]


def _rescaling(builder, layer, in_shape, out_shape, raw):
    scale = keras.ops.convert_to_numpy(keras.ops.convert_to_tensor(layer.scale))
    offset = keras.ops.convert_to_numpy(keras.ops.convert_to_tensor(layer.offset))
    return [
        layers.Rescaling(
            scale=_plain(1.0 / scale),
            offset=_plain(-offset / scale),
            name=builder.name(f"{layer.name}_mirror"),
        )
    ]


def _inverse_normalization(builder, layer, in_shape, out_shape, raw):
    if not layer.built or layer.mean is None:
        raise _cannot_mirror(layer, "it has no mean and variance yet (adapt it)")
    mean = keras.ops.convert_to_numpy(layer.mean).reshape(-1)
    variance = keras.ops.convert_to_numpy(layer.variance).reshape(-1)
    return [
        layers.Normalization(
            axis=layer.axis,
            mean=mean.tolist(),
            variance=variance.tolist(),
            invert=True,
            name=builder.name(f"{layer.name}_mirror"),
        )
    ]


def _plain(array):
    """A number or nested list, as a layer config holds it."""
    return array.item() if array.size == 1 and array.ndim == 0 else array.tolist()


def _broadcast_back(builder, operation, inputs, output, signal, raw):
    """Elementwise merges: every input branch gets the signal, at its own shape."""
    out_shape = _shape(output)[1:]
    backs = []
    for tensor in inputs:
        shape = _shape(tensor)[1:]
        if shape == out_shape:
            backs.append(signal)
        elif _broadcasts(shape, out_shape):
            name = builder.name(f"{operation.name}_mirror_reduce")
            backs.append(MirrorReduce(shape, name=name)(signal))
        else:
            raise _cannot_mirror(
                operation,
                f"its input of shape {shape} does not broadcast to its output "
                f"shape {out_shape}",
            )
    return backs, False


def _broadcasts(shape, target):
    if len(shape) > len(target):
        return False
    tail = target[len(target) - len(shape) :]
    return all(s in (1, t) for s, t in zip(shape, tail, strict=True))


def _concatenate(builder, layer, inputs, output, signal, raw):
    rank = len(_shape(output))
    axis = layer.axis % rank
    backs, start = [], 0
    for index, tensor in enumerate(inputs):
        size = _shape(tensor)[axis]
        name = builder.name(f"{layer.name}_mirror_split_{index}")
        backs.append(MirrorSlice(axis, start, start + size, name=name)(signal))
        start += size
    return backs, False


def _refused(builder, layer, inputs, output, signal, raw):
    raise _cannot_mirror(
        layer,
        "it has no mirror (a recurrent layer around a cell of your own)",
    )


def _unknown(builder, operation, inputs, output, signal, raw):
    """Unknown layers and ops: shape-keeping and elementwise ones, and
    custom layers that embed the token ids."""
    if _sequence.is_token_reader(builder, operation, inputs, output):
        return _sequence.embedding(builder, operation, inputs, output, signal, raw)
    out_shape = _shape(output)[1:]
    if inputs and all(_broadcasts(_shape(t)[1:], out_shape) for t in inputs):
        return _broadcast_back(builder, operation, inputs, output, signal, raw)
    shapes = ", ".join(str(_shape(t)[1:]) for t in inputs)
    raise _cannot_mirror(
        operation,
        f"it maps inputs of shape {shapes} to {out_shape}, and no rule here "
        f"knows how to go back",
    )


_RULES = (
    *_sequence.RULES,
    (_REFUSED, _refused),
    (_SKIPPED, _skipped),
    (_ACTIVATIONS, _activation),
    (NORMALIZATIONS, _single(_normalization)),
    (layers.Dense, _single(_dense)),
    (tuple(_CONV.values()), _single(_conv)),
    (tuple(_DEPTHWISE.values()), _single(_depthwise)),
    (tuple(_SEPARABLE.values()), _single(_separable)),
    (_POOLING, _single(_pooling)),
    (_GLOBAL_POOLING, _single(_global_pooling)),
    ((layers.Flatten, layers.Reshape), _single(_reshape)),
    (layers.Permute, _single(_permute)),
    (
        tuple(_ZERO_PADDING.values()) + tuple(_CROPPING.values()),
        _single(_padding_or_cropping),
    ),
    (layers.Rescaling, _single(_rescaling)),
    (layers.Normalization, _single(_inverse_normalization)),
    (_MERGES, _broadcast_back),
    (layers.Concatenate, _concatenate),
    (layers.TimeDistributed, _time_distributed),
)
# What the error for an unknown layer lists: every class a rule mirrors.
_KNOWN = (
    ", ".join(
        cls.__name__
        for classes, rule in _RULES
        if rule not in (_refused, _sequence.refused)
        for cls in (classes if isinstance(classes, tuple) else (classes,))
    )
    + " (convolutions grouped and dilated too), nested functional and "
    "Sequential models"
)


def _spatial_axes(rank, data_format):
    return (
        list(range(2, 2 + rank))
        if data_format == "channels_first"
        else list(range(1, 1 + rank))
    )


def _channel_axis(data_format):
    return 1 if data_format == "channels_first" else -1


def _fit_spatial(builder, shape, target, rank, data_format, name):
    """Crops or zero-pads at the far end so `shape`'s spatial sizes hit `target`."""
    axes = _spatial_axes(rank, data_format)
    crop = [(0, max(shape[a] - target[a], 0)) for a in axes]
    pad = [(0, max(target[a] - shape[a], 0)) for a in axes]
    kwargs = {} if rank == 1 else {"data_format": data_format}
    fixes = []
    if any(c[1] for c in crop):
        fixes.append(
            _CROPPING[rank](
                crop[0] if rank == 1 else tuple(crop),
                name=builder.name(f"{name}_crop"),
                **kwargs,
            )
        )
    if any(p[1] for p in pad):
        fixes.append(
            _ZERO_PADDING[rank](
                pad[0] if rank == 1 else tuple(pad),
                name=builder.name(f"{name}_pad"),
                **kwargs,
            )
        )
    return fixes


def _transpose_length(length, kernel, stride, padding, dilation, output_padding):
    kernel = kernel + (kernel - 1) * (dilation - 1)
    pad = kernel // 2 if padding == "same" else 0
    return (length - 1) * stride + kernel - 2 * pad + output_padding


def _conv_length(length, kernel, stride, padding, dilation):
    """The output length of a convolution over `length` (ceil division)."""
    kernel = kernel + (kernel - 1) * (dilation - 1)
    if padding != "same":
        length = length - kernel + 1
    return -(-length // stride)


def _conv_transpose(builder, layer, in_shape, out_shape):
    rank = len(layer.kernel_size)
    data_format = layer.data_format
    causal = layer.padding == "causal"
    padding = "valid" if causal else layer.padding
    axes = _spatial_axes(rank, data_format)
    name = builder.name(f"{layer.name}_mirror")

    # A dilated mirror runs with an explicitly dilated kernel on TensorFlow,
    # whose Eigen CPU kernels refuse dilated transposed convolutions.
    dilated = max(layer.dilation_rate) > 1
    classes = DILATED_CONV_TRANSPOSE if dilated else CONV_TRANSPOSE

    def transpose(output_padding):
        tie = {"tied_to": layer.name} if builder.tied else {}
        return (TIED_CONV_TRANSPOSE if builder.tied else classes)[rank](
            **tie,
            filters=in_shape[_channel_axis(data_format)],
            kernel_size=layer.kernel_size,
            strides=layer.strides,
            padding=padding,
            output_padding=output_padding,
            dilation_rate=layer.dilation_rate,
            data_format=data_format,
            use_bias=layer.use_bias,
            name=name,
        )

    # Keras's own output size first; else the output_padding (< stride) that
    # gives back each spatial size; whatever is still off is cropped or padded.
    # An axis no output_padding fits takes the one nearest its size among
    # those the forward convolution maps back to the feature length: another
    # length is refused by TensorFlow when it runs (Conv2DBackpropInput). If
    # an axis has none, Keras's own output size stays, and is cropped.
    mirror = transpose(None)
    shape = tuple(mirror.compute_output_shape(out_shape))
    if causal:  # the left padding, cropped; then the far end fitted
        crop = _sequence.causal_crop(builder, layer, rank)
        if crop:
            shape = tuple(crop[0].compute_output_shape(shape))
        fit = _fit_spatial(builder, shape, in_shape, rank, data_format, layer.name)
        return [mirror, *crop, *fit]
    if shape != tuple(in_shape):
        output_padding = []
        for i, axis in enumerate(axes):
            kernel, stride = layer.kernel_size[i], layer.strides[i]
            dilation = layer.dilation_rate[i]
            lengths = {
                op: _transpose_length(
                    out_shape[axis], kernel, stride, padding, dilation, op
                )
                for op in range(max(stride, dilation))
            }
            runnable = [
                op
                for op, length in lengths.items()
                if _conv_length(length, kernel, stride, padding, dilation)
                == out_shape[axis]
            ]
            if not runnable:
                output_padding = None
                break
            output_padding.append(
                min(runnable, key=lambda op: abs(lengths[op] - in_shape[axis]))
            )
        if output_padding is not None:
            mirror = transpose(tuple(output_padding))
            shape = tuple(mirror.compute_output_shape(out_shape))
    return [
        mirror,
        *_fit_spatial(builder, shape, in_shape, rank, data_format, layer.name),
    ]
