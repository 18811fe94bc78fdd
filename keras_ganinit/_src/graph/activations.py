"""What activation a layer applies, and what activation a kernel layer's output gets.

The one place the package works this out. Calibration's per-activation
targets, the looks-linear planner and the activation statistics all read it,
so `Dense(32)` followed by `Activation("tanh")` counts as a tanh layer
everywhere, as `Dense(32, activation="tanh")` does.
"""

import keras

from keras_ganinit._src.graph import graph as _graph
from keras_ganinit._src.graph.layers import ACTIVATION_LAYERS, leaf_layers


def activation_name(layer):
    """The name of the activation `layer` itself applies ("linear" if none).

    A `ReLU` layer with a threshold or a cap other than 6 is "clipped_relu":
    no rule here treats it as a plain ReLU.
    """
    if isinstance(layer, keras.layers.ReLU):
        if layer.negative_slope:
            return "leaky_relu"
        if float(layer.threshold) != 0.0:
            return "clipped_relu"
        if layer.max_value is None:
            return "relu"
        return "relu6" if float(layer.max_value) == 6.0 else "clipped_relu"
    for classes, name in (
        (keras.layers.LeakyReLU, "leaky_relu"),
        (keras.layers.ELU, "elu"),
        (keras.layers.PReLU, "prelu"),
        (keras.layers.Softmax, "softmax"),
    ):
        if isinstance(layer, classes):
            return name
    if isinstance(layer, keras.layers.TimeDistributed):
        return activation_name(layer.layer)
    function = getattr(layer, "activation", None)
    if function is None:
        return "linear"
    return getattr(function, "__name__", type(function).__name__)


def is_activation_layer(layer):
    """Whether `layer` is an activation function alone (`Activation`, `ReLU`...)."""
    return isinstance(layer, (keras.layers.Activation, *ACTIVATION_LAYERS))


def applied_activations(model):
    """{layer: the activation its output gets}, for every leaf layer of `model`.

    A layer's own activation if it has one; else, when every call's output is
    read by exactly one layer and that layer is an activation layer, that
    layer's activation; else "linear". Nested models are read inside.
    """
    found = {}
    _read(model, found)
    return found


def _read(model, found):
    graph = _graph.functional_of(model)
    if graph is None:  # a subclassed model: the chain of its leaf layers
        layers = list(leaf_layers(model))
        for layer, following in zip(layers, layers[1:] + [None], strict=True):
            found[layer] = _applied(layer, [[following]] if following else [[]])
        return
    readers = {}
    calls = list(_graph.nodes(model))
    for operation, inputs, _ in calls:
        for tensor in inputs:
            readers.setdefault(id(tensor), []).append(operation)
    outputs_of = {}
    for operation, _, outputs in calls:
        if _graph.is_graph_model(operation):
            _read(operation, found)
            continue
        outputs_of.setdefault(operation, []).extend(
            readers.get(id(tensor), []) for tensor in outputs
        )
    for operation, users in outputs_of.items():
        found[operation] = _applied(operation, users)


def _applied(layer, users_per_output):
    own = activation_name(layer)
    if own != "linear" or is_activation_layer(layer):
        return own
    if users_per_output and all(
        len(users) == 1 and is_activation_layer(users[0]) for users in users_per_output
    ):
        names = {activation_name(users[0]) for users in users_per_output}
        if len(names) == 1:
            return names.pop()
    return "linear"
