"""detach: cut a model's tie to keras_ganinit once its weights are set."""

import inspect

import keras

from keras_ganinit._src.graph.layers import leaf_layers

# Keras's own initializer for an argument a layer class gives no default for.
_STANDARD = {
    "bias_initializer": "zeros",
    "beta_initializer": "zeros",
    "moving_mean_initializer": "zeros",
    "gamma_initializer": "ones",
    "moving_variance_initializer": "ones",
}


def detach(model: keras.Model) -> keras.Model:
    """Replaces keras_ganinit's initializers in `model` by Keras's own.

    A model started with `GanPretrainedInitializer` (directly, or through
    `with_pretrained_initializers`), `LooksLinear` or `DeltaOrthogonal`
    names keras_ganinit in its config, so it loads only where keras_ganinit
    is installed and imported. Once its weights are set (pretrained, and
    perhaps trained further), nothing needs the tie: `detach` swaps every
    initializer of ours, on every layer (nested models, wrappers such as
    `Bidirectional`, recurrent cells), for the one the layer
    class uses by default (Glorot-uniform kernels, zero biases, unit scales:
    the initializers they stood in for), so the config names Keras only. The
    weights are not touched, nor is the compilation or the optimizer's
    state; the model is changed in place and returned. Its `.keras` files
    then load with Keras alone. Re-creating it from its config (`clone_model`)
    draws those default initializers, as for any Keras model.

    A layer not built yet (whose weights have not been drawn from our
    initializer), or a layer that is itself one of keras_ganinit's classes
    (a mirror's), is refused with an error before anything changes.

    Args:
        model: a built `keras.Model` (nested models included).

    Returns:
        The same model.

    Example:

    >>> import json, keras, keras_ganinit
    >>> source = keras.Sequential([keras.Input((4,)),
    ...     keras.layers.Dense(3, name="fe")])
    >>> model = keras_ganinit.with_pretrained_initializers(source, source)
    >>> "keras_ganinit" in json.dumps(model.get_config())
    True
    >>> model = keras_ganinit.detach(model)
    >>> "keras_ganinit" in json.dumps(model.get_config())
    False
    """
    if not isinstance(model, keras.Model) or _is_ours(model):
        raise TypeError(
            f"detach() takes a keras.Model (the model whose layers were started "
            f"with keras_ganinit's initializers), but got {type(model).__name__}"
            + (
                ", a keras_ganinit class itself: detach its extractor "
                "(detach(gan.extractor)) and save that."
                if _is_ours(model)
                else "."
            )
        )
    found = [
        (layer, attribute, value)
        for layer in _layers_within(model)
        for attribute, value in list(vars(layer).items())
        if attribute.endswith("_initializer") and _is_ours(value)
    ]
    unbuilt = sorted({repr(layer.name) for layer, _, _ in found if not layer.built})
    if unbuilt:
        raise ValueError(
            f"detach() would replace keras_ganinit's initializers of "
            f"{', '.join(unbuilt)} in {model.name!r}, which are not built yet: "
            f"their weights have not been drawn from those initializers, so the "
            f"pretrained start would be lost. Build the model first (give it a "
            f"keras.Input, or call it on a batch), then detach it. Nothing was "
            f"changed."
        )
    ours = sorted(
        {
            f"{layer.name!r} ({type(layer).__name__})"
            for layer in _layers_within(model)
            if _is_ours(layer)
        }
    )
    if ours:
        raise ValueError(
            f"detach() cannot cut {model.name!r}'s tie to keras_ganinit: its "
            f"layers {', '.join(ours)} are keras_ganinit's own classes (a "
            f"mirror's layers), which load only with the package. Detach a model "
            f"made of Keras layers (the extractor, or a classifier started from "
            f"it). Nothing was changed."
        )
    for layer, attribute, _ in found:
        setattr(layer, attribute, keras.initializers.get(_default(layer, attribute)))
    return model


def _is_ours(value):
    """Whether `value` is an instance of one of keras_ganinit's classes."""
    return type(value).__module__.split(".")[0] == "keras_ganinit"


def _layers_within(model):
    """Every layer of `model`, nested models, wrappers and RNN cells included."""
    seen, found = set(), []

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        found.append(layer)
        for value in vars(layer).values():
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, keras.layers.Layer):
                    visit(item)

    for layer in leaf_layers(model):
        visit(layer)
    return found


def _default(layer, attribute):
    """The initializer `layer`'s class takes for `attribute` by default."""
    try:
        parameter = inspect.signature(type(layer).__init__).parameters.get(attribute)
    except (TypeError, ValueError):
        parameter = None
    default = None if parameter is None else parameter.default
    if isinstance(default, str) or isinstance(default, keras.initializers.Initializer):
        return default
    return _STANDARD.get(attribute, "glorot_uniform")
