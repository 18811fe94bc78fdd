"""GanPretrainedInitializer: start a layer from adversarially pretrained weights."""

import os
import sys
import warnings
from typing import Any

import keras
from keras import ops

from keras_ganinit._src.transfer import source as _source

_warned_sources: set = set()
_FALLBACK_NAMES = {
    "gamma": "ones",
    "moving_variance": "ones",
    "bias": "zeros",
    "beta": "zeros",
    "moving_mean": "zeros",
}
# Where Keras rebuilds a saved model and then restores its weights.
_LOADERS = {
    "saving_lib.py": ("load_model", "_load_model_from_fileobj", "_load_model_from_dir"),
    "legacy_h5_format.py": ("load_model_from_hdf5",),
}


def _inside_load_model():
    """Whether Keras's load_model, which restores the weights next, is running.

    Keras has no public flag for it, so this reads the call stack for its
    loaders. Should a later Keras rename them, every fallback warns: the
    safe direction.
    """
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        names = _LOADERS.get(os.path.basename(code.co_filename), ())
        if code.co_name in names and f"{os.sep}keras{os.sep}" in code.co_filename:
            return True
        frame = frame.f_back
    return False


def _warn_every_time(message):
    """A UserWarning shown at each call, pointed at the user's line.

    `warnings.warn` shows a message once per place under the default filter;
    re-creating the same model twice must warn twice.
    """
    frame = sys._getframe(1)
    while frame is not None and any(
        f"{os.sep}{package}{os.sep}" in frame.f_code.co_filename
        for package in ("keras", "keras_ganinit")
    ):
        frame = frame.f_back
    if frame is None:
        frame = sys._getframe(1)
    warnings.warn_explicit(
        message,
        UserWarning,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=__name__,
        registry=None,
        module_globals=frame.f_globals,
    )


@keras.saving.register_keras_serializable(package="keras_ganinit")
class GanPretrainedInitializer(keras.initializers.Initializer):
    """Initializes a variable with a pretrained extractor layer's values.

    Use it as a layer's `kernel_initializer` (or `bias_initializer`, with
    `variable="bias"`) to start supervised training from the weights a
    `GanInitModel` learned. It returns exactly the pretrained values, cast to
    the requested dtype, and refuses a shape that differs from theirs.

    A source file is read once per process, however many layers use it, and
    never written; a changed file is read again, even if its size and
    modification time were kept. It is always read in Keras's safe mode,
    whatever `keras.config.enable_unsafe_deserialization()` says. Values
    that are not finite (NaN or inf) are refused with an error that names
    the source, the layer and the variable. Its path is stored in the config
    as given.

    Saving and loading: a model built with this initializer saves to `.keras`
    like any other, and loads after `import keras_ganinit` whether or not the
    source still exists. Keras calls initializers while it rebuilds a saved
    model, before it restores the saved weights; so an initializer re-created
    from a config whose source is gone, no longer fits or is not finite
    falls back to Keras's defaults (Glorot-uniform kernels, zero biases and
    offsets, unit scales) instead of failing. Inside `keras.saving.load_model`,
    which then overwrites those values with the saved ones, it warns once per
    source. Anywhere else (`clone_model`, `from_config`, `model_from_json`),
    where nothing restores them, it warns every time, naming the variable
    that is not pretrained. An initializer you construct yourself never
    falls back: it raises an error that names the source.

    Args:
        source: a path to a `.keras` file (a saved `GanInitModel`, whose
            extractor is used, or any saved Keras model), or an in-memory
            `GanInitModel` or `keras.Model`. An in-memory model is read at
            call time; its config holds a `memory://` name that is valid in
            this process only.
        layer: the layer's name, or an integer index that counts only the
            extractor's layers that own a kernel (negative indices count from
            the end).
        variable: `"kernel"` or `"bias"`; `"recurrent_kernel"` for a
            recurrent layer (pass it as `recurrent_initializer`);
            `"embeddings"` for an Embedding (`embeddings_initializer`);
            `"forward_kernel"`, `"backward_recurrent_kernel"`, ... for a
            Bidirectional layer's directions and `"query_kernel"`,
            `"output_bias"`, ... for MultiHeadAttention's projections; for
            a normalization layer
            `"gamma"`, `"beta"` and (BatchNormalization) `"moving_mean"`,
            `"moving_variance"`: pass them as the new layer's
            `gamma_initializer`, `beta_initializer`,
            `moving_mean_initializer` and `moving_variance_initializer`.
            Normalization layers are addressed by name.

    Example:

    >>> import keras, keras_ganinit
    >>> extractor = keras.Sequential([keras.Input((16,)),
    ...     keras.layers.Dense(8, activation="relu", name="fe1")])
    >>> gan = keras_ganinit.GanInitModel(extractor)
    >>> init = keras_ganinit.GanPretrainedInitializer(source=gan, layer="fe1")
    >>> dense = keras.layers.Dense(8, kernel_initializer=init)
    >>> dense.build((None, 16))
    >>> bool((dense.kernel.numpy() == extractor.get_layer("fe1").kernel.numpy()).all())
    True
    """

    def __init__(
        self,
        source: "str | os.PathLike | keras.Model | None" = None,
        layer: str | int | None = None,
        variable: str = "kernel",
    ) -> None:
        if variable not in _source.VARIABLES + _source.COMPOSITE_VARIABLES:
            raise ValueError(
                f"variable must be one of {', '.join(map(repr, _source.VARIABLES))}"
                f" (the normalization ones for BatchNormalization, "
                f"LayerNormalization and GroupNormalization layers), or for a "
                f"Bidirectional or MultiHeadAttention layer one of "
                f"{', '.join(map(repr, _source.COMPOSITE_VARIABLES))}, but got "
                f"{variable!r}."
            )
        if layer is not None and (
            isinstance(layer, bool) or not isinstance(layer, (str, int))
        ):
            raise TypeError(
                f"layer must be a layer name (str) or an integer index into the "
                f"extractor's layers that own a kernel, but got "
                f"{type(layer).__name__}: {layer!r}."
            )
        self._model = None
        given_model = isinstance(source, keras.Model)
        if given_model:
            self._model = source
            source = _source.memory_token(source)
        elif isinstance(source, (str, os.PathLike)):
            source = os.fspath(source)
            if source.startswith(_source.MEMORY_PREFIX):
                self._model = _source.model_for_token(source)
        elif source is not None:
            raise TypeError(
                f"source must be a path to a .keras file, a GanInitModel or a "
                f"keras.Model, but got {type(source).__name__}: {source!r}."
            )
        self.source = source
        self.layer = layer
        self.variable = variable
        self._restoring = False
        if given_model and layer is not None:
            # Fail where the user wrote the mistake, not at the layer's build.
            _source.snapshot_of_model(self._model).value(layer, variable)

    def __call__(self, shape: tuple, dtype: Any = None, **kwargs: Any) -> Any:
        shape = tuple(int(dim) for dim in shape)
        dtype = dtype or keras.config.floatx()
        try:
            value = self._pretrained(shape)
        except (OSError, ValueError) as error:
            if not self._restoring:
                raise
            return self._fallback(shape, dtype, error)
        return ops.cast(ops.convert_to_tensor(value), dtype)

    def _pretrained(self, shape):
        if self.source is None or self.layer is None:
            raise ValueError(
                f"GanPretrainedInitializer needs both source= (a .keras path or "
                f"a GanInitModel) and layer= (a layer name or index), but got "
                f"source={self.source!r}, layer={self.layer!r}."
            )
        if self.source.startswith(_source.MEMORY_PREFIX):
            if self._model is None:
                raise ValueError(
                    f"The in-memory source {self.source!r} belongs to another "
                    f"Python process or has been deleted. Save the pretrained "
                    f"model (gan.save('pretrained.keras')) and pass that path as "
                    f"source=."
                )
            snapshot = _source.snapshot_of_model(self._model)
        else:
            snapshot = _source.snapshot_of_file(self.source)
        name, value = snapshot.value(self.layer, self.variable)
        if tuple(value.shape) != shape:
            raise ValueError(
                f"Layer {name!r} in {snapshot.description} has {self.variable} "
                f"shape {tuple(value.shape)}, but the layer being initialized "
                f"asks for {shape}. Give the new layer the same units/filters, "
                f"kernel size and input width as {name!r}, or choose another "
                f"layer=."
                + (
                    " An LSTM asks its bias initializer for one gate's part "
                    "at a time when unit_forget_bias=True: pass "
                    "unit_forget_bias=False with this initializer."
                    if self.variable == "bias" and value.shape == (4 * shape[0],)
                    else ""
                )
            )
        return value

    def _fallback(self, shape, dtype, error):
        if _inside_load_model():
            # load_model restores the saved weights right after: one warning
            # per source is enough.
            if self.source not in _warned_sources:
                _warned_sources.add(self.source)
                warnings.warn(
                    f"GanPretrainedInitializer could not use its source while "
                    f"keras.saving.load_model re-created a model ({error}). "
                    f"Keras's defaults stand in until load_model restores the "
                    f"saved weights, which it does next.",
                    UserWarning,
                    stacklevel=2,
                )
        else:
            _warn_every_time(
                f"GanPretrainedInitializer(source={self.source!r}, "
                f"layer={self.layer!r}, variable={self.variable!r}) could not "
                f"use its source while a model was re-created outside "
                f"keras.saving.load_model (clone_model, from_config, "
                f"model_from_json): {error} This {self.variable} is NOT "
                f"pretrained: it starts from "
                f"{_FALLBACK_NAMES.get(self.variable, 'Glorot-uniform values')}. "
                f"Make the source available and re-create the model, or "
                f"load the saved model with keras.saving.load_model."
            )
        if self.variable in ("gamma", "moving_variance"):
            return keras.initializers.Ones()(shape, dtype=dtype)
        if self.variable in ("bias", "beta", "moving_mean"):
            return keras.initializers.Zeros()(shape, dtype=dtype)
        return keras.initializers.GlorotUniform()(shape, dtype=dtype)

    def get_config(self):
        return {"source": self.source, "layer": self.layer, "variable": self.variable}

    @classmethod
    def from_config(cls, config):
        initializer = cls(**config)
        initializer._restoring = True
        return initializer

    def clone(self):
        initializer = type(self)(**self.get_config())
        initializer._restoring = self._restoring
        return initializer
