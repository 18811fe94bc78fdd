"""DATA arguments: samples from a .npy, .npz or .csv file, or a folder of images.

(`paths.check_data` answers before anything loads.) `load` reads the samples as
float32 with the model's input shape, and says where they came from.
"""

import contextlib
import csv
import math
import os
import sys

import keras
import numpy as np

from keras_ganinit._src.graph.layers import rescales_its_input
from keras_ganinit_cli.errors import CliError
from keras_ganinit_cli.jobs import native_stderr_silenced
from keras_ganinit_cli.jobs.models import input_shape

IMAGE_READ_BATCH = 256


def load_labels(path, count):
    """The integer labels in `path`, checked to be `count` of them."""
    y, what = _read_array(path, None, role="--labels")
    y = y.reshape(len(y), -1)
    if y.shape[1] > 1:
        y = y.argmax(axis=1)  # one-hot
    y = y.reshape(-1)
    if len(y) != count:
        raise CliError(
            f"--labels {what} holds {len(y)} labels, but DATA has {count} "
            f"samples. Pass one label per sample, in the same order."
        )
    if not np.all(np.isfinite(y)) or np.any(y != np.round(y)) or np.any(y < 0):
        raise CliError(
            f"--labels {what} holds values that are not class ids 0, 1, 2, ... "
            f"Pass integer labels (or one-hot rows)."
        )
    return y.astype("int64")


def prepare(path, debug):
    """Loads what reading DATA `path` needs: TensorFlow, for a folder of images.

    Quietly unless `debug`; call it once the arguments have been checked.
    """
    if os.path.isdir(path):
        _load_tensorflow(debug)


def _load_tensorflow(debug):
    """Imports TensorFlow for reading images, quietly unless `debug`.

    Under the JAX and PyTorch backends it is not loaded yet; under
    TensorFlow's, `import keras_ganinit` loaded it before the command ran.
    """
    if "tensorflow" in sys.modules:
        return
    with contextlib.nullcontext() if debug else native_stderr_silenced():
        import tensorflow as tf

        tf.constant(0.0)  # Sets up its devices, which logs too.


def load(path, key, model, rescale, limit=None, seed=None):
    """(samples as float32 with `model`'s input shape, a description)."""
    shape = input_shape(model, "model")
    if os.path.isdir(path):
        x, what = _read_images(path, shape, limit, seed)
        if rescale is None:
            rescale = not rescales_its_input(model)
            if not rescale:
                what += f", kept in 0-255 ({model.name!r} rescales its input itself)"
    elif path.lower().endswith(".csv"):
        x, header = _read_csv(path)
        what = f"{path} (its header line skipped)" if header else path
    else:
        x, what = _read_array(path, key)
    _check_samples_shape(x, shape, path, model)
    if rescale:
        x = x / 255.0
        what += ", divided by 255"
    return x, what


def _read_array(path, key, role="DATA"):
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise CliError(
            f"Cannot read {role} {path!r} as a NumPy file ({error}). keras-ganinit "
            f"reads numeric arrays saved with np.save or np.savez, never pickled "
            f"objects."
        ) from error
    what = path
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.files)
            if key is None and len(keys) != 1:
                raise CliError(
                    f"{role} {path!r} holds {len(keys)} arrays "
                    f"({', '.join(keys) or 'none'}). Pick one with --key NAME."
                )
            key = keys[0] if key is None else key
            if key not in keys:
                raise CliError(
                    f"{role} {path!r} has no array {key!r}. Its arrays: "
                    f"{', '.join(keys) or 'none'}. Pass one of them as --key."
                )
            try:
                array = loaded[key]
            except ValueError as error:
                raise CliError(
                    f"Cannot read array {key!r} of DATA {path!r} ({error}). "
                    f"keras-ganinit reads numeric arrays only."
                ) from error
            what = f"{path}[{key!r}]"
    else:
        array = loaded
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise CliError(
            f"{role} {what} holds {array.dtype} values, not numbers. Save the "
            f"samples as a numeric array."
        )
    return array.astype("float32"), what


def _read_csv(path):
    """(the numbers in a CSV file, one sample a line; whether a header was skipped).

    The first non-empty line is a header if one of its cells is not a number.
    """
    rows, width, first, header = [], None, None, False
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            for number, cells in enumerate(csv.reader(file), start=1):
                if not any(cell.strip() for cell in cells):
                    continue
                values, bad = [], None
                for column, cell in enumerate(cells, start=1):
                    try:
                        values.append(float(cell))
                    except ValueError:
                        bad = (column, cell)
                        break
                if bad and not rows and not header:
                    header = True  # The first line, with words: a header.
                    continue
                if bad:
                    column, cell = bad
                    shown = "an empty cell" if not cell.strip() else repr(cell)
                    raise CliError(
                        f"DATA {path!r}, line {number}, column {column}: {shown} "
                        f"is not a number. The CSV must hold numbers only, one "
                        f"sample per line (a header line first is allowed); fix "
                        f"or remove that line."
                    )
                if width is None:
                    width, first = len(values), number
                elif len(values) != width:
                    raise CliError(
                        f"DATA {path!r}, line {number} has {len(values)} values, "
                        f"but line {first} has {width}. Every line must hold one "
                        f"sample with the same number of values."
                    )
                rows.append(values)
    except (UnicodeDecodeError, csv.Error) as error:
        raise CliError(
            f"Cannot read DATA {path!r} as a CSV text file ({error}). Pass a "
            f"text file of numbers separated by commas."
        ) from error
    if not rows:
        raise CliError(f"DATA {path!r} holds no samples: no line of numbers.")
    return np.asarray(rows, dtype="float32"), header


def _read_images(folder, shape, limit, seed):
    """Up to `limit` images of `folder` (shuffled), resized to `shape`."""
    modes = {1: "grayscale", 3: "rgb", 4: "rgba"}
    if len(shape) != 3 or shape[-1] not in modes:
        raise CliError(
            f"DATA {folder!r} is a folder of images, but the model takes inputs "
            f"of shape {shape}, not (height, width, channels) with 1, 3 or 4 "
            f"channels. Use an image model, or save the samples with the model's "
            f"input shape as .npy."
        )
    try:
        dataset = keras.utils.image_dataset_from_directory(
            folder,
            labels=None,
            color_mode=modes[shape[-1]],
            image_size=shape[:2],
            batch_size=IMAGE_READ_BATCH,
            shuffle=True,
            seed=0 if seed is None else seed,
        )
    except ValueError as error:
        raise CliError(
            f"Cannot read images from DATA {folder!r}: {error} (keras reads "
            f".bmp, .gif, .jpeg, .jpg and .png files, in subfolders too)."
        ) from error
    if limit is not None:
        dataset = dataset.take(math.ceil(limit / IMAGE_READ_BATCH))
    x = np.concatenate([np.asarray(batch) for batch in dataset])[:limit]
    what = f"the folder {folder} ({shape[0]}x{shape[1]} {modes[shape[-1]]})"
    return x.astype("float32"), what


def _check_samples_shape(x, shape, path, model):
    if x.ndim >= 1 and tuple(x.shape[1:]) == tuple(shape):
        return
    sample = tuple(x.shape[1:]) if x.ndim else ()
    message = (
        f"DATA {path!r} holds samples of shape {sample} ({x.shape[0] if x.ndim else 0}"
        f" samples: array shape {x.shape}), but {model.name!r} takes inputs of "
        f"shape {tuple(shape)}."
    )
    if len(sample) == 1 and len(shape) > 1 and sample[0] == math.prod(shape):
        message += (
            f" The data is flat ({sample[0]} values per sample) and the model "
            f"takes images: save them reshaped, e.g. np.save('x.npy', "
            f"x.reshape(-1, {', '.join(map(str, shape))}))."
        )
    else:
        message += " Pass samples with the model's input shape."
    raise CliError(message)
