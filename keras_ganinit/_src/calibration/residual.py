"""Residual streams: each branch joins the stream at a measured fraction of it.

calibrate gives every layer's output the target std, so a stream that adds
N calibrated branches (`h + f(h)`) would grow like sqrt(N). Instead, where
a branch is added to the stream it came from, the branch's last weighted
layer is scaled, on the batch, so that the branch's std is `ratio` times
the stream's: 1/sqrt(N) by default, which keeps the stream within a factor
sqrt(e) ~ 1.65 of its start at any depth and starts each block close to
the identity (as Admin and Stable ResNet do, from data).
"""

import dataclasses
import math

import keras
import numpy as np

from keras_ganinit._src.diagnostics.statistics import spread
from keras_ganinit._src.graph import graph as _graph
from keras_ganinit._src.graph.layers import (
    NORMALIZATIONS,
    is_addition,
    scale_variable,
)


@dataclasses.dataclass
class Merge:
    """A residual merge: which input is the stream, and what scales the branch.

    `scaled`: the branch's last layer with weights that set its scale;
    `tail`: the weightless one-input operations between it and the merge.
    """

    operation: object
    stream: int
    scaled: object
    tail: tuple


def _scales(operation):
    """Whether scaling `operation`'s weights scales its output alike."""
    if isinstance(operation, keras.layers.MultiHeadAttention):
        return True
    if isinstance(operation, NORMALIZATIONS):
        return getattr(operation, "gamma", None) is not None
    return scale_variable(operation) is not None


def _reaches(start, target, produced):
    """Whether the tensor `target` lies upstream of (or is) `start`."""
    stack, seen = [start], set()
    while stack:
        tensor = stack.pop()
        if tensor is target:
            return True
        if id(tensor) in seen or id(tensor) not in produced:
            continue
        seen.add(id(tensor))
        stack.extend(produced[id(tensor)][1])
    return False


def _branch_end(branch, stream, produced):
    """(last scaling layer, tail) of the branch from `stream`, or None."""
    tail = []
    tensor = branch
    while tensor is not stream and id(tensor) in produced:
        operation, inputs = produced[id(tensor)]
        if _scales(operation):
            return operation, tuple(reversed(tail))
        if len(inputs) != 1 or getattr(operation, "weights", None):
            return None
        if _graph.is_graph_model(operation):
            return None
        tail.append(operation)
        tensor = inputs[0]
    return None


def residual_merges(model):
    """The residual merges of `model`'s graph (nested models included)."""
    graph = _graph.functional_of(model)
    if graph is None:
        return []
    produced, merges = {}, []
    for operation, inputs, outputs in _graph.nodes(graph):
        for tensor in outputs:
            produced[id(tensor)] = (operation, inputs)
        if _graph.is_graph_model(operation):
            merges += residual_merges(operation)
            continue
        if not (is_addition(operation) and len(inputs) == 2):
            continue
        for stream in (0, 1):
            if _reaches(inputs[1 - stream], inputs[stream], produced):
                end = _branch_end(inputs[1 - stream], inputs[stream], produced)
                if end is not None:
                    merges.append(Merge(operation, stream, *end))
                break
    return merges


def _spread(values):
    """`statistics.spread` with every position and channel counted as a unit."""
    values = np.asarray(keras.ops.convert_to_numpy(values), dtype="float64")
    return spread(values.reshape(len(values), -1))


def scale_output(layer, scale):
    """Scales `layer`'s output by `scale` (> 0) through its weights."""
    if isinstance(layer, keras.layers.MultiHeadAttention):
        layer = layer.output_dense
    if isinstance(layer, NORMALIZATIONS):
        weights = (layer.gamma, getattr(layer, "beta", None))
    else:
        weights = (scale_variable(layer), getattr(layer, "bias", None))
    for variable in weights:
        if variable is not None:
            variable.assign(variable * scale)


class ResidualStreams:
    """Scales residual branches during calibrate's pass (`before` hooks).

    Args:
        model: the model calibrated.
        ratio: the branch's std over the stream's at each merge; None:
            1/sqrt(number of merges).
        skip: layers to leave as they are (a branch ending in one is not
            scaled).
    """

    def __init__(self, model, ratio=None, skip=()):
        skipped = {id(layer) for layer in skip}
        self.merges = {
            id(m.operation): m
            for m in residual_merges(model)
            if id(m.scaled) not in skipped
        }
        count = len(self.merges)
        self.ratio = ratio if ratio is not None else 1.0 / math.sqrt(max(count, 1))
        self._ends = {id(m.scaled) for m in self.merges.values()}
        self._calls = {}
        self.scales = {}  # layer -> the factor its output got

    def remember(self, layer, args, kwargs):
        """Keeps the inputs of a branch's last layer, to run it again later."""
        if id(layer) in self._ends and id(layer) not in self._calls:
            self._calls[id(layer)] = (args, kwargs)

    def merge(self, operation, args, kwargs):
        """The merge's output, its branch scaled first; None if not a merge."""
        merge = self.merges.get(id(operation))
        if merge is None or id(merge.scaled) not in self._calls:
            return None
        listed = len(args) == 1 and isinstance(args[0], (list, tuple))
        inputs = list(args[0] if listed else args)
        stream, branch = inputs[merge.stream], inputs[1 - merge.stream]
        wanted = self.ratio * _spread(stream)
        total = 1.0
        for _ in range(4):
            current = _spread(branch)
            if not np.isfinite(current) or current == 0.0:
                break
            scale = wanted / current
            if abs(scale - 1.0) <= 0.01:
                break
            scale_output(merge.scaled, scale)
            total *= scale
            branch = self._branch(merge)
        self.scales[merge.scaled] = self.scales.get(merge.scaled, 1.0) * total
        inputs[1 - merge.stream] = branch
        new_args = (inputs,) if listed else tuple(inputs)
        return _graph._call_in_inference(operation, new_args, kwargs)

    def _branch(self, merge):
        args, kwargs = self._calls[id(merge.scaled)]
        value = _graph._call_in_inference(merge.scaled, args, kwargs)
        value = keras.tree.flatten(value)[0]
        for operation in merge.tail:
            value = _graph._call_in_inference(operation, (value,), {})
        return value
