"""What each layer of a model outputs on a batch, before and after its activation.

The one place that probes layer outputs inside a model. `layer_outputs` runs
the model one leaf layer at a time (`_graph.run`, nested models and branches
included) and, for each layer on its first call, records its output, its
output with its fused activation switched off, and which axis holds its
channels.
"""

import dataclasses

import keras
import numpy as np

from keras_ganinit._src.graph import graph as _graph
from keras_ganinit._src.graph.layers import ACTIVATION_LAYERS, leaf_layers

FORMATS = ("channels_first", "channels_last")


@dataclasses.dataclass(frozen=True)
class Probe:
    """One layer's outputs on a batch, as float64 NumPy arrays.

    Attributes:
        layer: the leaf layer.
        pre_activation: its output with its fused `activation` set to linear
            (an activation layer's input; for any other layer, its output).
        output: its output (a layer with several outputs: the first).
        channel_axis: the axis of `output` that holds its units or channels.
        consumers: the operations that take its output in the model's graph
            (empty for a model output).
        attention: for a `MultiHeadAttention` layer, its attention scores
            (the softmax's output, keys last); None for other layers.
    """

    layer: keras.layers.Layer
    pre_activation: np.ndarray
    output: np.ndarray
    channel_axis: int
    consumers: tuple = ()
    attention: np.ndarray | None = None


def by_channel(array, axis):
    """`array` as (samples and positions, channels): `axis` moved last."""
    if array.ndim < 2:
        return array.reshape(-1, 1)
    array = np.moveaxis(array, axis, -1)
    return array.reshape(-1, array.shape[-1])


def channel_axis(data_format, rank):
    """The channel axis of a rank-`rank` output in `data_format`."""
    if rank > 2 and data_format == "channels_first":
        return 1
    return max(rank - 1, 0)


# How a layer without a `data_format` sets the layout of its output: a table
# of (classes, rule); a layer not listed keeps its input's layout.
def _last_axis(layer):
    return "channels_last"


def _normalization_axis(layer):
    axis = layer.axis
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    return "channels_first" if axis == 1 else "channels_last"


FORMAT_RULES = (
    (
        (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Embedding),
        _last_axis,
    ),
    (
        (
            keras.layers.BatchNormalization,
            keras.layers.LayerNormalization,
            keras.layers.GroupNormalization,
        ),
        _normalization_axis,
    ),
)


def output_format(layer, upstream):
    """The data format of `layer`'s output, given that of its input."""
    own = getattr(layer, "data_format", None)
    if own in FORMATS:
        return own
    for classes, rule in FORMAT_RULES:
        if isinstance(layer, classes):
            return rule(layer)
    return upstream


class GraphFacts:
    """What the graph of a model says about each leaf layer (first call).

    `formats[id(layer)]`: the data format of its output; a layer without its
    own `data_format` (an `Activation` after a Conv2D) takes that of the
    nearest layer upstream that has one; None where none has. `consumers(
    layer)`: the operations that take its output, nested models looked into.
    """

    def __init__(self, model):
        self.formats = {}
        self._produced = {}  # id(layer) -> keys of its output tensors
        self._takers = {}  # tensor key -> operations that take it
        self._tensor_formats = {}
        self._alias = {}  # id(tensor) -> key of the tensor it stands for
        self._walk(model, None)

    def consumers(self, layer):
        found = []
        for key in self._produced.get(id(layer), ()):
            found += [op for op in self._takers.get(key, ()) if op not in found]
        return tuple(found)

    def _key(self, tensor):
        key = id(tensor)
        while key in self._alias:
            key = self._alias[key]
        return key

    def _leaf(self, operation, data_format, outputs):
        self.formats.setdefault(id(operation), data_format)
        self._produced.setdefault(id(operation), outputs)

    def _walk(self, model, given):
        graph = _graph.functional_of(model)
        if graph is None:  # a subclassed model: its layers as a chain
            previous = None
            for layer in leaf_layers(model):
                given = output_format(layer, given)
                self._leaf(layer, given, [("after", id(layer))])
                if previous is not None:
                    self._takers[("after", id(previous))] = [layer]
                previous = layer
            return
        for tensor in keras.tree.flatten(graph.inputs):
            self._tensor_formats.setdefault(self._key(tensor), given)
        for operation, inputs, outputs in _graph.nodes(graph):
            keys = [self._key(t) for t in inputs]
            known = (self._tensor_formats.get(key) for key in keys)
            upstream = next((f for f in known if f is not None), None)
            if _graph.is_graph_model(operation):
                inner = _graph.functional_of(operation)
                for tensor, key in zip(
                    keras.tree.flatten(inner.inputs), keys, strict=False
                ):
                    self._alias[id(tensor)] = key
                self._walk(operation, upstream)
                inner_outputs = keras.tree.flatten(inner.outputs)
                for tensor, inner_tensor in zip(outputs, inner_outputs, strict=False):
                    self._alias[id(tensor)] = self._key(inner_tensor)
                continue
            for key in keys:
                self._takers.setdefault(key, []).append(operation)
            result = output_format(operation, upstream)
            self._leaf(operation, result, [self._key(t) for t in outputs])
            for tensor in outputs:
                self._tensor_formats[self._key(tensor)] = result


def _numpy(value):
    value = keras.tree.flatten(value)[0]
    return np.asarray(keras.ops.convert_to_numpy(value), dtype="float64")


def _call(layer, args, kwargs=None):
    return _numpy(_graph._call_in_inference(layer, args, kwargs or {}))


# Layers whose output is exactly `activation(output with a linear
# activation)`: their pre-activation is computed once and the output from it.
FUSED_ACTIVATION = (
    keras.layers.Dense,
    keras.layers.EinsumDense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
)


def _outputs(layer, args, kwargs):
    """(pre-activation as float64 NumPy or None: the output, output tensor).

    One call of the layer where its activation can be applied apart (the
    `FUSED_ACTIVATION` classes), two where it cannot.
    """
    activation = getattr(_holder(layer), "activation", None)
    fused = activation is not None and activation is not keras.activations.linear
    if isinstance(layer, FUSED_ACTIVATION) and fused:
        pre = _linear_call(layer, args, kwargs)
        return _numpy(pre), activation(pre)
    output = _graph._call_in_inference(layer, args, kwargs)
    if isinstance(layer, ACTIVATION_LAYERS) or fused:
        return pre_activation(layer, args, kwargs=kwargs), output
    return None, output


def _holder(layer):
    """The layer whose `activation` applies: a TimeDistributed's inner one."""
    if isinstance(layer, keras.layers.TimeDistributed):
        return layer.layer
    return layer


def pre_activation(layer, args, output=None, kwargs=None):
    """`layer`'s output on `args` with its fused activation switched off.

    An activation layer's (`ReLU`...) is its input. `output`, the layer's
    output on `args` if already computed, saves a call for layers without
    an activation. A float64 NumPy array.
    """
    if isinstance(layer, ACTIVATION_LAYERS):
        return _numpy(args[0])
    activation = getattr(_holder(layer), "activation", None)
    if activation is None or activation is keras.activations.linear:
        return _call(layer, args, kwargs) if output is None else output
    return _numpy(_linear_call(layer, args, kwargs))


def _linear_call(layer, args, kwargs=None):
    """`layer` called on `args` with its `activation` set to linear meanwhile.

    A layer whose activation cannot be set is called as it is.
    """
    holder = _holder(layer)
    activation = holder.activation
    kwargs = kwargs or {}
    try:
        holder.activation = keras.activations.linear
    except AttributeError:  # a read-only activation: nothing to switch off
        return _graph._call_in_inference(layer, args, kwargs)
    try:
        return _graph._call_in_inference(layer, args, kwargs)
    finally:
        holder.activation = activation


# How many rows of attention scores (one per query, head and sample) the
# attention statistics read at most: their averages settle long before.
SCORE_ROWS = 8192


def attention_call(layer, args, kwargs):
    """(output tensor, scores as float64 NumPy) of an attention layer.

    One call, on its real arguments, in inference mode. The scores are
    (rows, keys): at most `SCORE_ROWS` rows, evenly spaced.
    """
    kwargs = {**kwargs, "return_attention_scores": True, "training": False}
    output, scores = layer(*args, **kwargs)
    scores = keras.ops.convert_to_numpy(scores)
    scores = scores.reshape(-1, scores.shape[-1])
    if len(scores) > SCORE_ROWS:
        scores = scores[np.linspace(0, len(scores) - 1, SCORE_ROWS).astype(int)]
    return output, scores.astype("float64")


def set_batch_statistics(layer, inputs):
    """Sets a BatchNormalization's moving statistics to those of `inputs`.

    Returns (variable, value it had) pairs, to put back afterwards.
    """
    values = np.asarray(keras.ops.convert_to_numpy(inputs), dtype="float64")
    axes = [a % values.ndim for a in np.atleast_1d(layer.axis)]
    reduce = tuple(a for a in range(values.ndim) if a not in axes)
    old = [
        (v, np.array(keras.ops.convert_to_numpy(v)))
        for v in (layer.moving_mean, layer.moving_variance)
    ]
    dtype = keras.backend.standardize_dtype(layer.moving_mean.dtype)
    layer.moving_mean.assign(values.mean(axis=reduce).astype(dtype))
    layer.moving_variance.assign(values.var(axis=reduce).astype(dtype))
    return old


def probe_call(layer, args, kwargs, facts, default=None, output=None):
    """(`Probe` of `layer` on its real arguments, its output tensor).

    `facts`: the model's `GraphFacts`; `default`: the data format where the
    graph says none. `output`: the layer's output tensor on `args`, if
    already computed (then it is not called again; its pre-activation is
    that output: give it only for a layer without an activation).
    """
    scores = None
    if output is not None:
        pre = None
    elif isinstance(layer, keras.layers.MultiHeadAttention):
        output, scores = attention_call(layer, args, kwargs)
        pre = None
    else:
        pre, output = _outputs(layer, args, kwargs)
    values = _numpy(output)
    pre = values if pre is None else pre
    fmt = facts.formats.get(id(layer)) or default or keras.config.image_data_format()
    axis = channel_axis(fmt, values.ndim)
    probe = Probe(layer, pre, values, axis, facts.consumers(layer), scores)
    return probe, output


def layer_outputs(model, x, select=None, batch_statistics=False):
    """Probes every leaf layer of `model` on the batch `x`.

    Runs `model` once in inference mode, one leaf layer at a time, and calls
    each selected layer (on its first call only, for a shared layer) on the
    inputs it really gets, once as it is and once with its `activation`
    temporarily set to linear.

    Args:
        model: a built functional or Sequential `keras.Model` (nested models
            are entered).
        x: the model's input: an array or tensor, or a list for several
            inputs.
        select: a function of the layer saying whether to probe it; None
            probes every leaf layer.
        batch_statistics: whether BatchNormalization layers normalize with
            the mean and variance of the inputs they get, as in training,
            rather than with their moving statistics. Their moving statistics
            are put back afterwards: the model is left as it was.

    Returns:
        A list of `Probe`s, in the order the layers ran.
    """
    facts = GraphFacts(model)
    default = keras.config.image_data_format()
    probes = []
    seen = set()
    saved = []

    def before(layer, args, kwargs):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if batch_statistics and isinstance(layer, keras.layers.BatchNormalization):
            saved.extend(set_batch_statistics(layer, args[0]))
        if select is not None and not select(layer):
            return
        probe, output_tensor = probe_call(layer, args, kwargs, facts, default)
        probes.append(probe)
        return output_tensor  # the pass goes on from it: no second call

    try:
        _graph.run(model, x, before)
    finally:
        for variable, value in saved:
            variable.assign(value)
    return probes
