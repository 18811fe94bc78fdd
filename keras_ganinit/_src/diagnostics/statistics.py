"""Per-layer activation statistics: what `activation_report` measures.

`measure(model, x, ...)` runs the model once, a layer at a time, and
returns one row of plain numbers per reported layer; `ActivationReport`
(activation_report.py) renders and judges them.
"""

import math

import keras
import numpy as np

from keras_ganinit._src.graph import probe as _probe
from keras_ganinit._src.graph.activations import activation_name
from keras_ganinit._src.graph.layers import (
    ACTIVATION_LAYERS,
    NORMALIZATIONS,
    is_addition,
)
from keras_ganinit._src.utils.arrays import as_array, non_finite_message
from keras_ganinit._src.utils.checks import is_number
from keras_ganinit._src.utils.data import check_input_shape

# Activations that output exact zeros for a whole half-line: a unit that is
# zero on every sample gets no gradient ("dead").
DEAD_ACTIVATIONS = frozenset({"relu", "relu6"})

# Bounded activations and their limits: near a limit their gradient vanishes.
SATURATING_ACTIVATIONS = {
    "tanh": (-1.0, 1.0),
    "softsign": (-1.0, 1.0),
    "hard_tanh": (-1.0, 1.0),
    "sigmoid": (0.0, 1.0),
    "hard_sigmoid": (0.0, 1.0),
}

KEYS = (
    "layer",
    "class",
    "activation",
    "pre_activation_mean",
    "pre_activation_std",
    "output_mean",
    "output_std",
    "dead_fraction",
    "saturated_fraction",
    "finite",
    "attention_entropy",
)


def is_reported(layer):
    """Whether `layer` gets a row.

    It has weights, applies an activation, or adds its inputs (an `Add`
    layer or `a + b`: its row is a residual stream's std after the merge).
    """
    return (
        bool(getattr(layer, "weights", None))
        or isinstance(layer, ACTIVATION_LAYERS)
        or callable(getattr(layer, "activation", None))
        or is_addition(layer)
    )


def spread(by_channel):
    """Root mean square over channels of each channel's std over the batch."""
    return float(np.sqrt(np.mean(np.var(by_channel, axis=0))))


def row(probe, margin):
    """One report row, in plain Python types, from a `_probe.Probe`."""
    layer = probe.layer
    name = activation_name(layer)
    output = _probe.by_channel(probe.output, probe.channel_axis)
    pre = probe.pre_activation
    pre_axis = probe.channel_axis if pre.ndim == probe.output.ndim else pre.ndim - 1
    pre = _probe.by_channel(pre, pre_axis)
    with np.errstate(all="ignore"):
        dead = 0.0
        if name in DEAD_ACTIVATIONS:
            dead = float(np.mean(np.all(output == 0.0, axis=0)))
        saturated = 0.0
        if name in SATURATING_ACTIVATIONS:
            low, high = SATURATING_ACTIVATIONS[name]
            near = (output <= low + margin) | (output >= high - margin)
            saturated = float(np.mean(near))
        return {
            "layer": layer.name,
            "class": type(layer).__name__,
            "activation": name,
            "pre_activation_mean": float(np.mean(pre)),
            "pre_activation_std": spread(pre),
            "output_mean": float(np.mean(output)),
            "output_std": spread(output),
            "dead_fraction": dead,
            "saturated_fraction": saturated,
            "finite": bool(np.isfinite(output).all()),
            "attention_entropy": None
            if probe.attention is None
            else attention_entropy(probe.attention),
        }


def measure(model, x, margin=0.02, batch_statistics=True, select=is_reported):
    """Runs `model` on `x` and measures each layer `select` picks.

    By default every layer that has weights, applies an activation or adds
    its inputs (`is_reported`).

    Returns:
        (rows, samples, normalized): one dict per layer measured, with the
        keys in `KEYS`, in the order the
        layers ran; how many samples the batch had; and the names of the
        layers whose output only feeds normalization layers, which undo its
        scale.
    """
    if not (is_number(margin) and 0 <= margin < 0.5):
        raise ValueError(
            f"margin must be a number with 0 <= margin < 0.5 (the distance to "
            f"an activation's limit that counts as saturated), but got {margin!r}."
        )
    x = _batches(model, x)
    probes = _probe.layer_outputs(
        model, x, select=select, batch_statistics=batch_statistics
    )
    samples = len(keras.tree.flatten(x)[0])
    normalized = [
        probe.layer.name
        for probe in probes
        if probe.consumers
        and all(isinstance(c, NORMALIZATIONS) for c in probe.consumers)
    ]
    return [row(probe, margin) for probe in probes], samples, normalized


def _batches(model, x):
    """`x` checked against `model`'s inputs, as a tensor (a list: several)."""
    if not isinstance(model, keras.Model) or not model.built:
        raise TypeError(
            f"activation_report() needs a built keras.Model (a Sequential or "
            f"functional model made with keras.Input), but got "
            f"{type(model).__name__}. Build it first, e.g. keras.Sequential("
            f"[keras.Input(shape), ...])."
        )
    try:
        inputs = keras.tree.flatten(model.inputs)
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            f"Model {model.name!r} has no known inputs. Build it with "
            f"keras.Input(shape) so that its layers can be run one by one."
        )
    several = len(inputs) > 1
    given = list(x) if several and isinstance(x, (list, tuple)) else None
    if several and (given is None or len(given) != len(inputs)):
        raise ValueError(
            f"Model {model.name!r} has {len(inputs)} inputs, so x must be "
            f"a list of {len(inputs)} arrays, one per input, but got "
            f"{type(x).__name__}"
            + (f" of {len(given)}" if given is not None else "")
            + "."
        )
    batches = []
    for i, (batch, spec) in enumerate(zip(given or [x], inputs, strict=True)):
        name = f"x[{i}]" if several else "x"
        batches.append(_batch(model, batch, spec, name))
    return batches if several else batches[0]


def _batch(model, batch, spec, name):
    array = as_array(batch)
    if array is None:
        try:
            array = np.asarray(batch)
        except (TypeError, ValueError):
            array = None
    if array is None or array.dtype == object:
        raise TypeError(
            f"{name} must be a NumPy array or a tensor, but got "
            f"{type(batch).__name__}. Pass a batch of samples, e.g. x[:256] "
            f"(a tf.data.Dataset: take one batch and pass it as an array)."
        )
    count = 0 if array.ndim == 0 else len(array)
    if count < 2:
        raise ValueError(
            f"{name} has {count} sample{'' if count == 1 else 's'} (shape "
            f"{array.shape}), but activation_report() needs at least 2: it "
            f"measures how each unit varies over the batch. Pass a few hundred "
            f"samples for stable fractions."
        )
    check_input_shape(array, model, name, spec)
    message = non_finite_message(array, name)
    if message:
        raise ValueError(
            f"{message}. The report would blame the weights for what comes "
            f"from the data. Drop or impute those samples first, e.g. "
            f"x = x[np.isfinite(x).reshape(len(x), -1).all(axis=1)]."
        )
    dtype = spec.dtype or "float32"
    return keras.ops.convert_to_tensor(array.astype(dtype))


def effective_rank(features):
    """The effective rank of a batch of features (Roy & Vetterli, 2007).

    exp of the entropy of the normalized singular values of the centred
    (samples, features) matrix: the number of directions the batch really
    spreads over. 1 when every sample gives the same features up to one
    direction; the feature count when all directions carry equal spread.
    """
    matrix = np.asarray(features, dtype="float64").reshape(len(features), -1)
    matrix = matrix - matrix.mean(axis=0)
    singular = np.linalg.svd(matrix, compute_uv=False)
    total = singular.sum()
    if not np.isfinite(total) or total == 0.0:
        return 0.0
    share = singular / total
    share = share[share > 0]
    return float(np.exp(-(share * np.log(share)).sum()))


def logit_spread(scores):
    """The std of the attention logits within each query's row, on average.

    Read back from the softmax's output (`log p` is the logit up to a
    constant per row); keys masked out (probability 0) are left out.
    """
    scores = scores.reshape(-1, scores.shape[-1])
    valid = scores > 0
    logits = np.where(valid, np.log(np.where(valid, scores, 1.0)), 0.0)
    count = np.maximum(valid.sum(axis=1), 1)
    mean = logits.sum(axis=1) / count
    variance = (np.where(valid, logits - mean[:, None], 0.0) ** 2).sum(axis=1) / count
    return float(np.sqrt(np.mean(variance)))


def attention_entropy(scores):
    """The attention's entropy over the keys, divided by log(keys), on average.

    1 for uniform attention (every query averages all keys); 0 for one-hot
    attention (each query sees one key).
    """
    scores = scores.reshape(-1, scores.shape[-1])
    if scores.shape[-1] < 2:
        return 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(scores > 0, scores * np.log(scores), 0.0)
    return float(np.mean(-terms.sum(axis=1)) / math.log(scores.shape[-1]))
