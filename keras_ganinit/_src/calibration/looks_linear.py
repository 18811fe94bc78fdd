"""The looks-linear start that `calibrate(..., looks_linear=True)` gives a model.

Reads the model's graph forwards and decides, layer by layer, which kernel
layers can put out mirrored pairs `[z, -z]` (a Dense or plain convolution
with an even number of units and an activation `f` with
`f(z) - f(-z) = z`, up to a factor), and whether each one's input is such a
layer's activated output. Then it draws their `LooksLinear` kernels.
"""

import keras
import numpy as np

from keras_ganinit._src.graph import graph as _graph
from keras_ganinit._src.graph.activations import activation_name, is_activation_layer
from keras_ganinit._src.graph.layers import leaf_layers
from keras_ganinit._src.initializers.looks_linear import LooksLinear

# Activations with f(z) - f(-z) = c z: through them, a mirrored pair of
# pre-activations [z, -z] can be undone exactly by the next layer.
MIRRORING = {"relu", "gelu", "silu", "swish", "softplus", "leaky_relu"}

# The kernel layers that can take a looks-linear kernel: their kernel is
# (*kernel_size, in_channels, units), applied to every position.
KERNEL_CLASSES = (
    keras.layers.Dense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
)
TRANSPOSED = (
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
)

# Layers that keep each channel's mirrored partner in the same place and
# act on both alike, linearly (or not at all at inference).
PASS_THROUGH = (
    keras.layers.Dropout,
    keras.layers.SpatialDropout1D,
    keras.layers.SpatialDropout2D,
    keras.layers.SpatialDropout3D,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
    keras.layers.AveragePooling3D,
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalAveragePooling3D,
    keras.layers.ZeroPadding1D,
    keras.layers.ZeroPadding2D,
    keras.layers.ZeroPadding3D,
    keras.layers.Identity,
)

# What a tensor holds: a mirrored pair of pre-activations [z, -z] that an
# activation layer is about to take, or its activated output [f(z), f(-z)].
PRE, MIRRORED = "pre-activation", "mirrored"

# How `CalibrationReport` names each start.
FIRST, INNER, LAST = "looks-linear", "looks-linear, mirrored input", "looks-linear end"


def _mirroring_activation_layer(layer):
    """Whether `layer` is an activation layer that `MIRRORING` covers."""
    return is_activation_layer(layer) and activation_name(layer) in MIRRORING


def _kernel_layer(layer):
    """Whether `layer` can take a looks-linear kernel."""
    return (
        isinstance(layer, KERNEL_CLASSES)
        and not isinstance(layer, TRANSPOSED)
        and getattr(layer, "groups", 1) == 1
        and getattr(layer, "kernel", None) is not None
    )


def _calls(model):
    """The model's calls as (operation, input keys, output keys), and
    {key: the operations that take that tensor}.

    A model without a graph (subclassed) is read as the chain of its leaf
    layers. A nested model counts as one operation: its inside is planned on
    its own, from an input that is not mirrored.
    """
    graph = _graph.functional_of(model)
    if graph is None:
        layers = list(leaf_layers(model))
        calls = [(layer, [index], [index + 1]) for index, layer in enumerate(layers)]
    else:
        calls = [
            (operation, [id(t) for t in inputs], [id(t) for t in outputs])
            for operation, inputs, outputs in _graph.nodes(model)
        ]
    consumers = {}
    for operation, inputs, _ in calls:
        for key in inputs:
            consumers.setdefault(key, []).append(operation)
    return calls, consumers


def plan(model, skip=()):
    """{layer: form} for the kernel layers that get a looks-linear kernel.

    `form` is FIRST (`[N, -N]`), INNER (`[[M, -M], [-M, M]]`) or LAST
    (`[M; -M]`: a layer that takes a mirrored input and ends the stretch).

    A layer called more than once (shared) has one kernel for all its calls:
    it gets a form only if every call asks for the same one. Otherwise it is
    planned again as a layer that takes none (an orthogonal kernel, its
    output not mirrored), until no call disagrees, so no call of a shared
    layer ever reads a plain input with a mirrored-input kernel.
    """
    barriers = {id(layer) for layer in skip}
    while True:
        asked = {}
        _plan_into(model, barriers, asked)
        split = [layer for layer, wanted in asked.items() if len(wanted) > 1]
        if not split:
            break
        barriers |= {id(layer) for layer in split}
    return {
        layer: next(iter(wanted))
        for layer, wanted in asked.items()
        if next(iter(wanted)) is not None
    }


def _plan_into(model, skip, forms):
    """Adds {layer: the set of forms its calls ask for (None: no form)}."""
    calls, consumers = _calls(model)
    state = {}
    for operation, inputs, outputs in calls:
        if _graph.is_graph_model(operation):
            _plan_into(operation, skip, forms)
            continue
        held = state.get(inputs[0]) if len(inputs) == 1 else None
        out = None
        if _kernel_layer(operation) and id(operation) not in skip:
            mirrored_in = held == MIRRORED and operation.kernel.shape[-2] % 2 == 0
            even = operation.kernel.shape[-1] % 2 == 0
            activation = activation_name(operation)
            users = consumers.get(outputs[0], []) if len(outputs) == 1 else []
            if even and activation in MIRRORING:
                out = MIRRORED
            elif (
                even
                and activation == "linear"
                and len(users) == 1
                and _mirroring_activation_layer(users[0])
            ):
                out = PRE
            form = None
            if out is not None:
                form = INNER if mirrored_in else FIRST
            elif mirrored_in:
                form = LAST
            forms.setdefault(operation, set()).add(form)
        elif _mirroring_activation_layer(operation):
            out = MIRRORED if held == PRE else None
        elif isinstance(operation, PASS_THROUGH):
            out = held
        for key in outputs:
            state[key] = out


def assign(forms, seed):
    """Draws each planned layer's kernel and zeroes its bias."""
    if seed is None:
        # From NumPy's global generator, which keras.utils.set_random_seed sets.
        seed = int(np.random.randint(0, 2**31 - 1 - len(forms)))
    for index, (layer, form) in enumerate(forms.items()):
        initializer = LooksLinear(
            mirrored_input=form != FIRST,
            mirrored_output=form != LAST,
            seed=seed + index,
        )
        kernel = layer.kernel
        kernel.assign(initializer(tuple(kernel.shape), dtype=kernel.dtype))
        bias = getattr(layer, "bias", None)
        if bias is not None:
            bias.assign(np.zeros(tuple(bias.shape), dtype=bias.dtype))
