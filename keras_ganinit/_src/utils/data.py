"""Samples from every form of data the public functions take (`x`).

Every public function that reads data calls it `x` and takes the same forms,
through `take_samples`:

- a NumPy array or a backend tensor (or a nested list of numbers);
- a batched `tf.data.Dataset`, a `keras.utils.PyDataset`, or a Python
  generator or iterator of batches; each batch is `x`, `(x,)`, `(x, y)` or
  `(x, y, sample_weight)`, as `Model.fit` takes them. A generator is read
  from, so the batches taken are used up; a function that reads every
  sample (`linear_probe`, `pretrain_layerwise`) reads a stream to its end,
  so give an endless one an end first (`dataset.take(n)`).

Refused, with the reason: a `tf.data.Dataset` that is not batched (its
elements are single samples), strings, dicts, and anything else. For a model
with several inputs, `x` is a list or tuple of arrays, one per input.
"""

import keras
import numpy as np

from keras_ganinit._src.utils.arrays import as_array, check_samples
from keras_ganinit._src.utils.checks import positive_int

# How many samples a function that measures a model on data reads by default
# (calibrate, lsuv, activation_report, the calibration after fit).
SAMPLES = 512

# What the errors list as accepted.
FORMS = (
    "a NumPy array or tensor of samples, a batched tf.data.Dataset, a "
    "keras.utils.PyDataset, or a generator of batches"
)


def take_samples(x, size, who, model=None, name="x", labels=False, streams=True):
    """Up to `size` samples of `x` (None: every sample) as NumPy arrays.

    Args:
        x: the data, in any form listed in this module's docstring.
        size: how many samples to take; None for all of them.
        who: the caller, for messages (`"calibrate()"`).
        model: the model the samples are for; its input rank tells an
            unbatched dataset from a batched one.
        name: the argument's name, for messages.
        labels: also return the labels the batches carry (None if none).
        streams: whether to read Python generators and iterators; with
            False they are refused (a TypeError), e.g. after `fit` used one up.

    Returns:
        The samples (an array; a list of arrays for a model with several
        inputs), or `(samples, labels)` with `labels=True`.
    """
    several = model is not None and _input_count(model) > 1
    if several and isinstance(x, (list, tuple)) and all(_is_array(v) for v in x):
        taken = [_array(v, size) for v in x]
        return (taken, None) if labels else taken
    if _is_array(x):
        taken = _array(x, size)
        return (taken, None) if labels else taken
    if isinstance(x, (list, tuple)):
        try:
            taken = np.asarray(x, dtype="float32")[:size]
        except (TypeError, ValueError):
            raise _refused(x, who, name) from None
        return (taken, None) if labels else taken
    if isinstance(x, keras.utils.PyDataset):
        batches = (x[index] for index in range(len(x)))
    elif hasattr(x, "element_spec") and hasattr(x, "take"):  # tf.data.Dataset
        _check_batched(x, model, who, name)
        batches = iter(x)
    elif streams and (
        hasattr(x, "__next__")
        or (hasattr(x, "__iter__") and not isinstance(x, (str, bytes, dict)))
    ):
        batches = iter(x)
    else:
        raise _refused(x, who, name)
    return _gather(batches, size, who, name, labels)


def _is_array(x):
    return as_array(x) is not None


def _array(x, size):
    array = as_array(x)
    return array if size is None else array[:size]


def _input_count(model):
    try:
        return len(keras.tree.flatten(model.inputs))
    except (AttributeError, ValueError, TypeError):
        return 1


def _refused(x, who, name):
    return TypeError(
        f"{who} takes {name} as {FORMS}, but got {type(x).__name__}. Pass a "
        f"few hundred real samples, e.g. {name}=x_train[:512]."
    )


def _check_batched(dataset, model, who, name):
    """A dataset of single samples is refused before any sample is read."""
    spec = dataset.element_spec
    if isinstance(spec, (tuple, list)):
        spec = spec[0]
    shape = getattr(spec, "shape", None)
    if model is None or shape is None or shape.rank is None:
        return
    try:
        wanted = len(keras.tree.flatten(model.inputs)[0].shape)
    except (AttributeError, ValueError, TypeError, IndexError):
        return
    if shape.rank == wanted - 1:
        raise ValueError(
            f"{who} got a tf.data.Dataset that is not batched: each of its "
            f"elements is one sample of shape {tuple(shape)}, and the model "
            f"takes batches of shape (batch, {', '.join(map(str, shape))}). "
            f"Batch it first, e.g. {name}=dataset.batch(256)."
        )


def _gather(batches, size, who, name, labels):
    """Reads batches until `size` samples (or the end); concatenates them."""
    parts, tags, count = [], [], 0
    for element in batches:
        features, target, _ = keras.utils.unpack_x_y_sample_weight(element)
        array = as_array(features)
        if array is None or array.ndim == 0:
            raise TypeError(
                f"{who} read a batch from {name} that is not an array of "
                f"samples ({type(features).__name__}). Each batch must be x, "
                f"(x, y) or (x, y, sample_weight) with x an array or tensor."
            )
        parts.append(array)
        if labels:
            tags.append(None if target is None else as_array(target))
        count += len(array)
        if size is not None and count >= size:
            break
    if not parts:
        raise ValueError(
            f"{who} got no samples from {name}: it yielded no batch. Pass "
            f"data with a few hundred samples."
        )
    taken = np.concatenate(parts)[:size]
    if not labels:
        return taken
    if any(tag is None for tag in tags):
        return taken, None
    return taken, np.concatenate(tags)[:size]


def check_input_shape(array, model, name, spec=None):
    """Raises a ValueError if `array`'s samples are not shaped as `model` takes."""
    spec = spec if spec is not None else keras.tree.flatten(model.inputs)[0]
    expected = tuple(spec.shape[1:])
    if array.ndim != len(expected) + 1 or any(
        want is not None and want != got
        for want, got in zip(expected, array.shape[1:], strict=False)
    ):
        shown = ", ".join("any" if d is None else str(d) for d in expected)
        raise ValueError(
            f"{name} has shape {array.shape}, but model {model.name!r} expects "
            f"(samples, {shown}). Pass samples shaped like the model's input "
            f"(reshape them, e.g. x.reshape(-1, {shown.replace('any', '-1')}))."
        )


def sample_batch(x, samples, who, model, name="x"):
    """The first `samples` samples of `x` (None: all), checked for measuring.

    `samples` must be an integer >= 1 or None; the batch needs at least 2
    samples, all finite, shaped as `model` takes them. Every function that
    measures a model on data (calibrate, lsuv, activation_report) reads its
    `x` through here.
    """
    if samples is not None:
        samples = positive_int(samples, "samples", "how many samples to measure")
    batch = take_samples(x, samples, who, model=model, name=name)
    for part in batch if isinstance(batch, list) else [batch]:
        check_samples(part, name, 2, who=who)
    return batch


def samples_fit_got(x, model):
    """The first `SAMPLES` samples of what `fit` got, or None if unreadable.

    For the calibration and the do-no-harm check after `fit`: a generator
    is not read again, since `fit` has used it up.
    """
    try:
        return take_samples(x, SAMPLES, "fit()", model=model, streams=False)
    except (TypeError, ValueError):
        return None
