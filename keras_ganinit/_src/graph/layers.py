"""Layer helpers shared by the mirror, calibration and sources."""

import keras

# The layer classes more than one part of the package treats alike.

# Depthwise convolutions keep their per-channel filters in `kernel`.
DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)

# Layers that are an activation function on their own: their pre-activation
# is their input.
ACTIVATION_LAYERS = (
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
    keras.layers.Softmax,
)

# Layers that undo the scale of their input.
NORMALIZATIONS = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
    keras.layers.UnitNormalization,
)

# Convolutions whose filters can be drawn as pictures (plot_filters).
CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D)


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
            f"dimensions; give every non-batch dimension a size in keras.Input "
            f"(pad sequences of different lengths to one length, and mask "
            f"the padding with a Masking layer or Embedding(mask_zero=True))."
        )
    return shape


def embeddings_in(layer):
    """The `Embedding` layers that `layer` is or holds as attributes (a
    token-and-position embedding written as a custom layer), in order."""
    if isinstance(layer, keras.layers.Embedding):
        return [layer]
    found = []
    for value in vars(layer).values():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, keras.layers.Embedding) and item not in found:
                found.append(item)
    return found


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
            # Within 31 bits: JAX takes integer seeds as 32-bit values.
            config["seed"] = (seed * 1000 + index) % (2**31 - 1)
            fresh = type(initializer).from_config(config)
            variable.assign(fresh(tuple(variable.shape), dtype=variable.dtype))


def scale_variable(layer):
    """The kernel whose scale sets `layer`'s output scale, or None.

    A Dense or Conv layer's `kernel`; a separable convolution's
    `pointwise_kernel`; a depthwise convolution's (depthwise) `kernel`.
    """
    for name in ("pointwise_kernel", "kernel"):
        variable = getattr(layer, name, None)
        if variable is not None and hasattr(variable, "assign"):
            return variable
    return None


def kernel_layers(model):
    """`model`'s leaf layers that own a kernel that sets their scale, in order."""
    return [layer for layer in leaf_layers(model) if scale_variable(layer) is not None]


def extractor_of(model):
    """A GanInitModel's extractor; any other model (or object) as it is.

    GanInitModel is looked up in Keras's registry, not imported: the graph
    helpers sit below the pretraining in the import graph.
    """
    gan_class = keras.saving.get_registered_object("keras_ganinit>GanInitModel")
    is_gan = gan_class is not None and isinstance(model, gan_class)
    return model.extractor if is_gan else model


def rescales_its_input(model):
    """Whether `model` rescales its input itself, before its first kernel.

    A model whose first weighted layer is an `Embedding` (or a layer of one's
    own holding Embeddings) reads token ids, which are integers on purpose:
    it counts as rescaling them.
    """
    for layer in leaf_layers(model):
        if isinstance(
            layer, (keras.layers.Rescaling, keras.layers.Normalization)
        ) or embeddings_in(layer):
            return True
        if layer.weights:
            return False
    return False


def excluded(exclude, layers, who, what="layers with a kernel"):
    """The layers among `layers` that an `exclude=` argument names.

    `exclude` is a layer or a layer's name, a list of them, or a function
    of the layer that returns True for the layers to leave out. A layer
    object is matched as itself, a name as any layer of that name. Anything
    that names none of `layers` is a ValueError that lists them.
    """
    if callable(exclude) and not isinstance(exclude, keras.layers.Layer):
        return [layer for layer in layers if exclude(layer)]
    single = isinstance(exclude, (str, keras.layers.Layer))
    try:
        items = [exclude] if single else list(exclude if exclude is not None else ())
    except TypeError:
        raise TypeError(
            f"{who}'s exclude= takes a layer or a layer's name, a list of them, "
            f"or a function of the layer, but got {exclude!r}. Pass e.g. "
            f'exclude="head", or leave it out.'
        ) from None
    unknown = []
    for item in items:
        if isinstance(item, keras.layers.Layer):
            if not any(layer is item for layer in layers):
                unknown.append(f"the layer {item.name!r}")
        elif isinstance(item, str):
            if not any(layer.name == item for layer in layers):
                unknown.append(repr(item))
        else:
            raise TypeError(
                f"{who}'s exclude= takes layers or layer names (or a function "
                f"of the layer), but got {item!r} of type {type(item).__name__}."
            )
    if unknown:
        known = sorted({layer.name for layer in layers})
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        raise ValueError(
            f"{who}'s exclude= names [{', '.join(unknown)}], which "
            f"{'is' if len(unknown) == 1 else 'are'} not among the {what} of "
            f"this model: {shown or 'none'}. Pass layers of the model you "
            f"called it on, or their names."
        )
    return [
        layer
        for layer in layers
        if any(item is layer or item == layer.name for item in items)
    ]


def is_addition(operation):
    """Whether `operation` adds its inputs: an `Add` layer, or `a + b`."""
    if isinstance(operation, keras.layers.Add):
        return True
    # `x + y` on Keras tensors records keras.ops' Add operation, which Keras
    # does not export as a class.
    return (
        type(operation).__name__ == "Add"
        and type(operation).__module__.startswith("keras.")
        and not isinstance(operation, keras.layers.Layer)
    )
