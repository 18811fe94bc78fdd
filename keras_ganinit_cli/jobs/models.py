"""EXTRACTOR, MODEL and SOURCE arguments: the models the command reads.

A saved `.keras` file, read in safe mode and never compiled, or (for
`pretrain`) `keras.applications:NAME`, built without weights; and what the
command asks of a model: its input shape, whether it rescales its input.
"""

import difflib
import json
import zipfile

import keras

from keras_ganinit._src.graph.layers import (
    extractor_of,
    single_input_shape,
)
from keras_ganinit._src.utils.saving import LoadError, load_model_safely
from keras_ganinit_cli.errors import CliError, UsageError


def load_model(path, what):
    """The model saved at `path`, read in safe mode, never compiled."""
    if not zipfile.is_zipfile(path):
        raise CliError(
            f"{what} {path!r} is not a Keras model file: a .keras file is the "
            f"zip archive model.save('model.keras') writes. Pass such a file."
        )
    try:
        return load_model_safely(path)
    except LoadError as error:
        if error.unsafe:
            raise CliError(
                f"{what} {path!r} holds a Lambda layer (Python code), which "
                f"keras-ganinit never loads (Keras's safe mode). Rebuild the "
                f"model without Lambda layers (a custom layer or a built-in "
                f"one), or copy its weights into such a model, and save that."
            ) from error.cause
        raise CliError(
            f"Cannot load {what} {path!r} as a Keras model ({error}). Pass a "
            f".keras file written by model.save() that uses Keras's and "
            f"keras_ganinit's layers only."
        ) from error.cause


def saved_config(path):
    """The JSON config in a .keras archive (no code runs), or {}."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        return {}


def unwrap(model):
    """(whether `model` is a GanInitModel, its extractor if so, else `model`)."""
    extractor = extractor_of(model)
    return extractor is not model, extractor


def application(name, shape):
    """keras.applications.NAME(weights=None, include_top=False, pooling='avg')."""
    names = sorted(
        n
        for n in dir(keras.applications)
        if n[:1].isupper() and callable(getattr(keras.applications, n))
    )
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        guess = f" Did you mean {close[0]}?" if close else ""
        raise UsageError(
            f"keras.applications has no model {name!r}.{guess} Valid names: "
            f"{', '.join(names)}."
        )
    try:
        return getattr(keras.applications, name)(
            include_top=False, weights=None, input_shape=shape, pooling="avg"
        )
    except Exception as error:
        raise CliError(
            f"Cannot build keras.applications.{name} with --input-shape "
            f"{','.join(map(str, shape))}: {error}"
        ) from error


def input_shape(model, role):
    """The shape of one sample `model` takes; `role` names it in errors."""
    try:
        return single_input_shape(model, role)
    except (TypeError, ValueError) as error:
        raise CliError(str(error)) from error
