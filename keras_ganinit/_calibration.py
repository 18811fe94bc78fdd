"""Conditioning pretrained layers for transfer: orthogonal, unit variance, centered."""

import numbers
import warnings

import keras
import numpy as np

from keras_ganinit._layers import leaf_layers, probe_input
from keras_ganinit.lsuv import _kernel_layers, lsuv


def nearest_orthogonal(kernel):
    """U V^T of the kernel's SVD, as a (fan_in, fan_out) matrix, reshaped back.

    Keeps the kernel's row and column spaces (the directions it learned) and
    sets every singular value to 1, as an `Orthogonal` initializer would.
    """
    matrix = np.asarray(kernel, dtype="float64").reshape(-1, kernel.shape[-1])
    u, _, vt = np.linalg.svd(matrix, full_matrices=False)
    return (u @ vt).reshape(kernel.shape).astype("float32")


# Output std that calibration gives a layer, by its activation. At unit
# pre-activation std a third of tanh's inputs lie beyond |x| = 1, where its
# slope is below 0.42; 0.5 started faster in the digits cells of
# benchmarks/init_quality.py, with random and with pretrained kernels alike
# (docs/benchmarks.md). Every other activation gets the LSUV standard, 1.
TARGET_STD = {"tanh": 0.5}


def target_std(layer):
    """The output standard deviation calibration gives `layer`."""
    name = getattr(getattr(layer, "activation", None), "__name__", "")
    return TARGET_STD.get(name, 1.0)


def calibrate(model, x_batch, target=None):
    """Orthogonalizes each kernel of `model`, then LSUV-rescales and centers it.

    Every kernel becomes its nearest orthogonal matrix; then, layer by layer on
    `x_batch`, the kernel is scaled to the output standard deviation `target`
    (None: `target_std(layer)`, 1 or 0.5 for tanh) and the bias shifted so
    each output unit has zero mean (`lsuv(..., center=True)`). Each
    BatchNormalization layer's moving statistics are then set to its inputs' on
    `x_batch`, since the kernels that feed it have changed (with one more LSUV
    pass per BatchNormalization layer, so layers after it are calibrated
    through its final statistics).
    """
    for layer in _kernel_layers(model):
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        layer.kernel.assign(nearest_orthogonal(kernel).astype(kernel.dtype))
    goal = target_std if target is None else target
    # A layer after a BatchNormalization is calibrated through that layer's
    # moving statistics, which are refreshed after the layers before it: one
    # more pass per BatchNormalization layer makes every layer see final ones.
    for _ in range(1 + len(_batch_norms(model))):
        lsuv(model, x_batch, target_std=goal, center=True)
        if not refresh_batch_statistics(model, x_batch):
            break
    return model


def _batch_norms(model):
    return [
        layer
        for layer in leaf_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def refresh_batch_statistics(model, x_batch):
    """Sets BatchNormalization moving statistics to their inputs' on `x_batch`.

    Calibration changes the kernels that feed a BatchNormalization layer, so
    the moving statistics it kept while pretraining no longer describe its
    inputs. Each layer's inputs come from a functional probe of `model` (or,
    for layers inside nested models, from running its layers as a chain), in
    inference mode; nothing is assigned unless every layer's inputs were
    found. Otherwise the statistics stay as they were, with a warning.

    Returns:
        Whether there were statistics to refresh and they were refreshed.
    """
    norms = _batch_norms(model)
    if not norms:
        return False
    x = keras.ops.convert_to_tensor(x_batch)
    try:
        found = _inputs_of(model, norms, x)
    except Exception as error:
        warnings.warn(
            f"Calibration rescaled the kernels of {model.name!r} but could not "
            f"refresh its BatchNormalization moving statistics ({error}); they "
            f"describe the kernels before calibration. Run a few batches in "
            f"training mode, or transfer only gamma and beta.",
            UserWarning,
            stacklevel=2,
        )
        return False
    for layer, inputs in zip(norms, found, strict=True):
        values = keras.ops.convert_to_numpy(inputs).astype("float64")
        axes = [a % values.ndim for a in np.atleast_1d(layer.axis)]
        reduce = tuple(a for a in range(values.ndim) if a not in axes)
        dtype = keras.backend.standardize_dtype(layer.moving_mean.dtype)
        layer.moving_mean.assign(values.mean(axis=reduce).astype(dtype))
        layer.moving_variance.assign(values.var(axis=reduce).astype(dtype))
    return True


def _inputs_of(model, norms, x):
    """What each of `norms` receives when `model` runs on `x`, or an error."""
    try:
        probe = keras.Model(probe_input(model), [layer.input for layer in norms])
    except Exception:  # a layer inside a nested model: walk the chain
        probe = None
    if probe is not None:
        found = probe(x, training=False)
        return list(found) if isinstance(found, (list, tuple)) else [found]
    found, y = {}, x
    for layer in leaf_layers(model):
        if any(layer is norm for norm in norms):
            found[id(layer)] = y
        y = layer(y, training=False)
    if tuple(y.shape[1:]) != tuple(model.outputs[0].shape[1:]):
        raise ValueError("its layers do not form a single chain")
    return [found[id(layer)] for layer in norms]


def check_target(target):
    """`target` if None or a number > 0, else a ValueError saying what to pass."""
    if target is None or (
        isinstance(target, numbers.Real)
        and not isinstance(target, (bool, np.bool_))
        and np.isfinite(target)
        and target > 0
    ):
        return None if target is None else float(target)
    raise ValueError(
        f"calibration_target_std must be None (output std 1 for every layer, "
        f"0.5 for tanh layers) or a number > 0 for every layer, but got "
        f"{target!r}. Pass 1.0 to give tanh layers unit output std too."
    )


def sample_batch(x, size):
    """Up to `size` input samples from what `fit` was given, or None."""
    if isinstance(x, keras.utils.PyDataset):
        parts, count = [], 0
        for index in range(len(x)):
            part = keras.utils.unpack_x_y_sample_weight(x[index])[0]
            parts.append(keras.ops.convert_to_numpy(part))
            count += len(parts[-1])
            if count >= size:
                break
        return np.concatenate(parts)[:size] if parts else None
    if hasattr(x, "take") and hasattr(x, "element_spec"):  # a tf.data.Dataset
        parts, count = [], 0
        for element in x:
            part = element[0] if isinstance(element, (tuple, list)) else element
            parts.append(np.asarray(part))
            count += len(parts[-1])
            if count >= size:
                break
        return np.concatenate(parts)[:size] if parts else None
    if hasattr(x, "shape") and hasattr(x, "__getitem__"):
        return keras.ops.convert_to_numpy(x[:size])
    return None
