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
