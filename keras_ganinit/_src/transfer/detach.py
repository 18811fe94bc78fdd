"""detach: cut a model's tie to keras_ganinit once its weights are set."""

import inspect

import keras

from keras_ganinit._src.graph.layers import leaf_layers
from keras_ganinit._src.transfer.gan_pretrained_initializer import (
    GanPretrainedInitializer,
)

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
    `with_pretrained_initializers`) names keras_ganinit in its config, so it
    loads only where keras_ganinit is installed and imported. Once its
    weights are set (pretrained, and perhaps trained further), nothing needs
    the tie: `detach` swaps each such initializer for the one the layer
    class uses by default (Glorot-uniform kernels, zero biases, unit scales:
    the initializers they stood in for), so the config names Keras only. The
    weights are not touched, nor is the compilation or the optimizer's
    state; the model is changed in place and returned. Its `.keras` files
    then load with Keras alone. Re-creating it from its config (`clone_model`)
    draws those default initializers, as for any Keras model.

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
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"detach() takes a keras.Model (the model whose layers were started "
            f"with keras_ganinit's initializers), but got {type(model).__name__}."
        )
    for layer in leaf_layers(model):
        for attribute, value in list(vars(layer).items()):
            if attribute.endswith("_initializer") and isinstance(
                value, GanPretrainedInitializer
            ):
                setattr(
                    layer, attribute, keras.initializers.get(_default(layer, attribute))
                )
    return model


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
