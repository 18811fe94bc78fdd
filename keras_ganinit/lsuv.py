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
    from keras_ganinit._layers import leaf_layers

    try:
        probe = keras.Model(model.inputs, layer.output)
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


def lsuv(model, x_batch, target_std=1.0, tolerance=0.02, max_iterations=10):
    """Rescales each kernel layer so its output has unit variance on a batch.

    Layer-sequential unit-variance initialization (Mishkin & Matas, "All you
    need is a good init", 2016): from the first layer to the last, each Dense
    or Conv layer's kernel is divided by the standard deviation of its output
    (before its activation) on `x_batch`, repeated until that standard
    deviation is within `tolerance` of `target_std`. The kernels' directions
    are kept; only their scale changes. Combined with `Orthogonal` kernels it
    is the LSUV initializer; applied to pretrained kernels it calibrates them.

    The model is changed in place (its kernels only) and returned.

    Args:
        model: a built `keras.Model` (Sequential or functional) whose Dense and
            Conv layers have a `kernel` and an `activation`.
        x_batch: a batch of real inputs, a few hundred samples.
        target_std: the output standard deviation to reach.
        tolerance: how close to `target_std` is close enough.
        max_iterations: rescaling passes per layer at most.

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
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise TypeError(
            f"lsuv() needs a built keras.Model (one made with keras.Input), but got "
            f"{type(model).__name__}."
        )
    if not target_std > 0:
        raise ValueError(f"target_std must be > 0, but got {target_std!r}.")
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
        for _ in range(max_iterations):
            std = float(np.std(_pre_activation_output(model, layer, x_batch)))
            if not np.isfinite(std) or std == 0.0:
                raise ValueError(
                    f"Layer {layer.name!r} outputs a constant (std {std}) on the "
                    f"batch, so lsuv() cannot rescale it. Pass a batch of varied "
                    f"real samples."
                )
            if abs(std - target_std) <= tolerance:
                break
            layer.kernel.assign(layer.kernel * (target_std / std))
    return model
