"""LSUV: layer-sequential unit-variance rescaling on a data batch."""

import keras
import numpy as np


def _kernel_layers(model):
    from keras_ganinit._layers import leaf_layers

    return [
        layer
        for layer in leaf_layers(model)
        if getattr(layer, "kernel", None) is not None
    ]


def _run_to(model, layer, x_batch):
    """`model` evaluated up to and including `layer`.

    A functional probe when `layer` is one of `model`'s own layers; for a layer
    inside a nested model, the chain of leaf layers run in order.
    """
    from keras_ganinit._layers import leaf_layers, probe_input

    try:
        probe = keras.Model(probe_input(model), layer.output)
    except ValueError:
        probe = None
    if probe is not None:
        return probe(x_batch, training=False)
    x = x_batch
    for leaf in leaf_layers(model):
        x = leaf(x, training=False)
        if leaf is layer:
            return x
    raise ValueError(f"Layer {layer.name!r} is not part of model {model.name!r}.")


def _pre_activation_output(model, layer, x_batch):
    """`layer`'s output on `x_batch` before its fused activation."""
    activation = layer.activation
    layer.activation = keras.activations.linear
    try:
        return keras.ops.convert_to_numpy(_run_to(model, layer, x_batch))
    finally:
        layer.activation = activation


def _flat_outputs(model, layer, x_batch):
    """Pre-activation outputs as (samples and positions, units), float64."""
    outputs = _pre_activation_output(model, layer, x_batch)
    return np.asarray(outputs, dtype="float64").reshape(-1, outputs.shape[-1])


def lsuv(
    model, x_batch, target_std=1.0, tolerance=0.02, max_iterations=10, center=False
):
    """Rescales each kernel layer so its output has unit variance on a batch.

    Layer-sequential unit-variance initialization (Mishkin & Matas, "All you
    need is a good init", 2016): from the first layer to the last, each Dense
    or Conv layer's kernel is divided by the standard deviation of its output
    (before its activation) on `x_batch`, repeated until that standard
    deviation is within `tolerance` of `target_std`. The kernels' directions
    are kept; only their scale changes. Combined with `Orthogonal` kernels it
    is the LSUV initializer; applied to pretrained kernels it calibrates them.

    With `center=True`, each layer's bias is also shifted so that every output
    unit (channel, for Conv) has zero mean on `x_batch`, and the standard
    deviation is taken of those centered outputs: the data-dependent
    initialization of Salimans & Kingma (weight normalization, 2016) at the
    scale of a whole layer. Layers built with `use_bias=False` are rescaled but
    not centered.

    The model is changed in place (its kernels, and its biases with
    `center=True`) and returned.

    Args:
        model: a built `keras.Model` (Sequential or functional) whose Dense and
            Conv layers have a `kernel` and an `activation`.
        x_batch: a batch of real inputs, a few hundred samples.
        target_std: the output standard deviation to reach: a number, or a
            function of the layer that returns one (a target per layer).
        tolerance: how close to `target_std` is close enough.
        max_iterations: rescaling passes per layer at most.
        center: also shift each layer's bias so its outputs have zero mean.

    Returns:
        The same model.

    Example:

    >>> import keras, numpy as np, keras_ganinit
    >>> model = keras.Sequential([keras.Input((16,)),
    ...     keras.layers.Dense(8, activation="relu", kernel_initializer="orthogonal")])
    >>> x = np.random.default_rng(0).normal(size=(256, 16)).astype("float32")
    >>> model = keras_ganinit.lsuv(model, x)
    >>> kernel = model.layers[0].kernel.numpy()
    >>> round(float(np.std(x @ kernel + model.layers[0].bias.numpy())), 1)
    1.0
    >>> model = keras_ganinit.lsuv(model, x + 3.0, center=True)
    >>> out = (x + 3.0) @ model.layers[0].kernel.numpy() + model.layers[0].bias.numpy()
    >>> round(float(np.abs(out.mean(0)).max()), 2), round(float(out.std()), 1)
    (0.0, 1.0)
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise TypeError(
            f"lsuv() needs a built keras.Model (one made with keras.Input), but got "
            f"{type(model).__name__}."
        )
    target_of = target_std if callable(target_std) else (lambda layer: target_std)
    layers = _kernel_layers(model)
    if not layers:
        raise ValueError(
            f"Model {model.name!r} has no layer with a kernel for lsuv() to rescale."
        )
    x_batch = keras.ops.convert_to_tensor(np.asarray(x_batch, dtype="float32"))
    for layer in layers:
        if not hasattr(layer, "activation"):
            raise ValueError(
                f"lsuv() rescales layers with a kernel and an activation "
                f"(Dense, Conv); {layer.name!r} ({type(layer).__name__}) has none."
            )
        target_std = target_of(layer)
        if not (isinstance(target_std, (int, float)) and target_std > 0):
            raise ValueError(
                f"target_std must be a number > 0 (or a function of the layer "
                f"returning one), but got {target_std!r} for layer {layer.name!r}."
            )
        bias = getattr(layer, "bias", None) if center else None
        for _ in range(max_iterations):
            outputs = _flat_outputs(model, layer, x_batch)
            means = outputs.mean(0)
            std = float(np.std(outputs if bias is None else outputs - means))
            if not np.isfinite(std) or std == 0.0:
                raise ValueError(
                    f"Layer {layer.name!r} outputs a constant (std {std}) on the "
                    f"batch, so lsuv() cannot rescale it. Pass a batch of varied "
                    f"real samples."
                )
            centered = bias is None or np.abs(means).max() <= tolerance * target_std
            if abs(std - target_std) <= tolerance and centered:
                break
            layer.kernel.assign(layer.kernel * (target_std / std))
            if bias is not None:
                means = _flat_outputs(model, layer, x_batch).mean(0)
                bias.assign(bias - means.astype(bias.dtype))
    return model
