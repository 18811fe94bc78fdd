"""Layer helpers shared by the mirror, calibration and sources."""

import keras

# Depthwise convolutions keep their per-channel filters in `kernel`.
DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)


def leaf_layers(model):
    """Yields `model`'s layers in order, descending into nested models.

    `InputLayer`s are skipped: they hold no computation.
    """
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def single_input_shape(model, role):
    """Returns `model`'s input shape without the batch axis, or explains why not.

    Args:
        model: a `keras.Model` with exactly one input of known shape.
        role: how the error message names the model ("extractor", ...).
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"The {role} must be a keras.Model (for example a keras.Sequential "
            f"that starts with keras.Input(shape)), but got "
            f"{type(model).__name__}: {model!r}."
        )
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            f"The {role} {model.name!r} has no known input shape. Build it with "
            f"an input, e.g. keras.Sequential([keras.Input(shape=(64,)), ...]) "
            f"or a functional keras.Model(inputs, outputs)."
        )
    if len(inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"The {role} {model.name!r} has {len(inputs)} inputs and "
            f"{len(model.outputs)} outputs; keras_ganinit expects exactly one of "
            f"each. Wrap the part you want to pretrain in a single-input, "
            f"single-output model."
        )
    shape = tuple(inputs[0].shape[1:])
    if any(dim is None for dim in shape):
        raise ValueError(
            f"The {role} {model.name!r} has input shape {shape} with unknown "
            f"dimensions; give every non-batch dimension a size in keras.Input."
        )
    return shape


def check_seed(seed):
    """`seed` if it is an integer or None; a TypeError saying so if not."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(
            f"seed must be an integer or None, but got {seed!r}. Pass e.g. "
            f"seed=0 for reproducible weights and data order."
        )
    return seed


def redraw(model, seed):
    """Redraws every initialized weight of `model` from its own initializer, seeded.

    Each variable that a layer made with a `*_initializer` whose config
    takes a seed (Glorot, He, orthogonal, random normal...) is drawn again
    from a copy of that initializer seeded with `seed` plus the variable's
    position, so a model built twice and redrawn with the same seed starts
    identical. Constant initializers (zeros, ones) have nothing to redraw.
    """
    index = 0
    for layer in leaf_layers(model):
        for attribute, initializer in sorted(vars(layer).items()):
            if not attribute.endswith("_initializer"):
                continue
            variable = getattr(layer, attribute[: -len("_initializer")], None)
            if not hasattr(variable, "assign") or not hasattr(
                initializer, "get_config"
            ):
                continue
            config = initializer.get_config()
            if "seed" not in config:
                continue
            index += 1
            config["seed"] = seed * 1000 + index
            fresh = type(initializer).from_config(config)
            variable.assign(fresh(tuple(variable.shape), dtype=variable.dtype))


def _initialized(layer, name):
    """The variable that `layer`'s `{name}_initializer` made, or None.

    `kernel` and `bias` have their own names; a separable convolution's
    `pointwise_initializer` made `pointwise_kernel`, a depthwise
    convolution's `depthwise_initializer` its `kernel`.
    """
    for candidate in (name, f"{name}_kernel", "kernel" if name == "depthwise" else ""):
        variable = getattr(layer, candidate, None) if candidate else None
        # Only the layer's own weights: a tied mirror's `kernel` is the
        # extractor's, which is not redrawn.
        if hasattr(variable, "assign") and any(variable is w for w in layer.weights):
            return variable
    return None
