"""with_pretrained_initializers: a whole model started from pretrained weights."""

import os
import warnings

import keras

from keras_ganinit._src.graph.layers import leaf_layers
from keras_ganinit._src.transfer import source as _source
from keras_ganinit._src.transfer.gan_pretrained_initializer import (
    GanPretrainedInitializer,
)

# The layer constructor argument that takes each variable's initializer.
INITIALIZER_ARGUMENTS = {
    "kernel": "kernel_initializer",
    "bias": "bias_initializer",
    "depthwise_kernel": "depthwise_initializer",
    "pointwise_kernel": "pointwise_initializer",
    "gamma": "gamma_initializer",
    "beta": "beta_initializer",
    "moving_mean": "moving_mean_initializer",
    "moving_variance": "moving_variance_initializer",
}
MATCHES = ("name", "order")


def with_pretrained_initializers(
    model: keras.Model,
    source: "str | os.PathLike | keras.Model",
    match: str = "name",
) -> keras.Model:
    """Returns a copy of `model` whose layers start from pretrained weights.

    The copy is made with `keras.models.clone_model` (nested models
    included), so it has the same architecture and layer names. Every layer
    that has a counterpart in `source` gets a `GanPretrainedInitializer` for
    each variable the source holds for it: kernel, bias, depthwise and
    pointwise kernels, and normalization layers' gamma, beta, moving mean
    and moving variance. Other layers keep their own initializers. The copy
    starts with exactly the source's values, and it saves to `.keras` and
    loads like any model built with `GanPretrainedInitializer`, whether or
    not the source still exists then.

    This is how a model whose layers you did not construct yourself (any
    `keras.applications` backbone, a model loaded from a file) receives
    pretrained weights: pretrain the same architecture with `GanInitModel`,
    then pass a fresh instance here.

    Args:
        model: a built functional or Sequential `keras.Model` (not changed).
        source: what `GanPretrainedInitializer` takes: the path of a `.keras`
            file (a saved `GanInitModel`, whose extractor is used, or any
            saved model), or an in-memory `GanInitModel` or `keras.Model`.
        match: `"name"` pairs layers with the same name (keras.applications
            models and models loaded from a file keep theirs); `"order"`
            pairs the layers that own weights, first with first, for two
            instances of one Sequential whose layers got different automatic
            names (`dense_3`, `dense_7`).

    Returns:
        A new, built `keras.Model`.

    Example:

    >>> import keras, keras_ganinit
    >>> def backbone():
    ...     return keras.Sequential([keras.Input((16,)),
    ...         keras.layers.Dense(8, activation="relu", name="fe1"),
    ...         keras.layers.Dense(4, activation="relu", name="fe2")])
    >>> gan = keras_ganinit.GanInitModel(backbone())
    >>> started = keras_ganinit.with_pretrained_initializers(backbone(), gan)
    >>> bool((started.get_layer("fe2").kernel.numpy()
    ...       == gan.extractor.get_layer("fe2").kernel.numpy()).all())
    True
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise TypeError(
            f"with_pretrained_initializers() needs a built keras.Model (a "
            f"functional or Sequential model made with keras.Input, or a "
            f"keras.applications model), but got {type(model).__name__}."
        )
    if match not in MATCHES:
        raise ValueError(
            f"match must be 'name' (pair layers with the same name) or 'order' "
            f"(pair the layers that own weights in order), but got {match!r}."
        )
    snapshot = _snapshot(source)
    pairs = (_by_name if match == "name" else _by_order)(model, snapshot)
    plans = {}
    for layer, name in pairs:
        plan = _plan(layer, name, snapshot, source)
        if plan[0] or plan[1]:
            plans[id(layer)] = (name, *plan)
    if not plans:
        raise ValueError(
            f"No layer of {model.name!r} has a counterpart with weights in "
            f"{snapshot.description} (match={match!r}).\n"
            f"  Layers with weights in the model: {_names(_weighted(model))}\n"
            f"  Layers with weights in the source: {_names(_sourced(snapshot))}\n"
            f"Pass a model of the pretrained architecture, or match='order' if "
            f"its layers were named automatically."
        )

    if match == "name":
        _warn_if_partly_matched(model, snapshot, pairs)

    def clone_function(layer):
        config = layer.get_config()
        name, arguments, direct = plans.get(id(layer), (None, {}, []))
        config.update(arguments)
        clone = layer.__class__.from_config(config)
        if direct:
            assigned.append((clone, name, direct))
        return clone

    assigned: list = []
    started = keras.models.clone_model(
        model, clone_function=clone_function, recursive=True
    )
    # Variables no constructor argument initializes (ConvNeXt's LayerScale
    # gamma): set to the source's values once the copy is built.
    for clone, name, direct in assigned:
        for variable in direct:
            target = _source.variables_of(clone)[variable]
            target.assign(snapshot.value(name, variable)[1].astype(target.dtype))
    return started


def _snapshot(source):
    if isinstance(source, keras.Model):
        return _source.snapshot_of_model(source)
    if isinstance(source, (str, os.PathLike)):
        return _source.snapshot_of_file(os.fspath(source))
    raise TypeError(
        f"source must be a path to a .keras file, a GanInitModel or a "
        f"keras.Model, but got {type(source).__name__}: {source!r}."
    )


def _weighted(model):
    return [layer for layer in leaf_layers(model) if _source.variables_of(layer)]


def _sourced(snapshot):
    return [name for name, (_, values) in snapshot.layers.items() if values]


def _names(items, limit=12):
    names = [getattr(item, "name", item) for item in items]
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _by_name(model, snapshot):
    pairs = [
        (layer, layer.name)
        for layer in _weighted(model)
        if snapshot.layers.get(layer.name, (None, {}))[1]
    ]
    _check_classes(pairs, model, snapshot, "name")
    return pairs


def _warn_if_partly_matched(model, snapshot, pairs):
    """Layers left out on both sides look like names that drifted apart."""
    used = {name for _, name in pairs}
    matched = {id(layer) for layer, _ in pairs}
    unused = [name for name in _sourced(snapshot) if name not in used]
    unmatched = [layer for layer in _weighted(model) if id(layer) not in matched]
    if unused and unmatched:
        warnings.warn(
            f"with_pretrained_initializers matched {len(pairs)} layers of "
            f"{model.name!r} by name, but {len(unmatched)} of its layers with "
            f"weights ({_names(unmatched, 5)}) keep their own initializers "
            f"while {len(unused)} layers of {snapshot.description} "
            f"({_names(unused, 5)}) are not used. Automatically named layers "
            f"(conv2d_12, ...) get other names in a second instance built in "
            f"the same process: build the model in a fresh process or after "
            f"keras.backend.clear_session(), or pass match='order'.",
            UserWarning,
            stacklevel=3,
        )


def _by_order(model, snapshot):
    targets, sources = _weighted(model), _sourced(snapshot)
    if len(targets) != len(sources):
        raise ValueError(
            f"match='order' pairs the layers that own weights in order, but "
            f"{model.name!r} has {len(targets)} ({_names(targets)}) and "
            f"{snapshot.description} has {len(sources)} ({_names(sources)}). "
            f"Pass a model of the pretrained architecture, or match='name'."
        )
    pairs = list(zip(targets, sources, strict=True))
    _check_classes(pairs, model, snapshot, "order")
    return pairs


def _check_classes(pairs, model, snapshot, match):
    """Every pair is one class of layer on both sides, or a ValueError."""
    for layer, name in pairs:
        class_name = snapshot.layers[name][0]
        if type(layer).__name__ != class_name:
            raise ValueError(
                f"match={match!r} pairs layer {layer.name!r} "
                f"({type(layer).__name__}) of {model.name!r} with {name!r} "
                f"({class_name}) of {snapshot.description}: the two "
                f"architectures differ there. Pass a model of the pretrained "
                f"architecture" + (", or match='order'." if match == "name" else ".")
            )


def _plan(layer, name, snapshot, source):
    """How `layer` gets the values of `name`: (initializer arguments, names of
    variables without one, to be assigned after cloning)."""
    own = _source.variables_of(layer)
    config = layer.get_config()
    plan, direct = {}, []
    covered = {id(own[v]) for v in own if INITIALIZER_ARGUMENTS[v] in config}
    for variable, value in snapshot.layers[name][1].items():
        if variable not in own:
            continue
        if tuple(own[variable].shape) != tuple(value.shape):
            raise ValueError(
                f"Layer {layer.name!r} of the model has {variable} shape "
                f"{tuple(own[variable].shape)}, but its counterpart {name!r} in "
                f"{snapshot.description} has {tuple(value.shape)}. Build the "
                f"model with the pretrained architecture (same units, filters, "
                f"kernel sizes and input shape)."
            )
        argument = INITIALIZER_ARGUMENTS[variable]
        if argument in config:
            plan[argument] = GanPretrainedInitializer(
                source=source, layer=name, variable=variable
            )
        elif id(own[variable]) not in covered:
            direct.append(variable)
    return plan, direct
