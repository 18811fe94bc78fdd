"""Conditioning pretrained layers for transfer: orthogonal, unit variance, centered."""

import numbers

import keras
import numpy as np

from keras_ganinit import _graph, _guard, _probe
from keras_ganinit._layers import DEPTHWISE, leaf_layers
from keras_ganinit.lsuv import (
    kernel_layers,
    run_rescaling,
    scale_variable,
)


def nearest_orthogonal(kernel):
    """U V^T of the kernel's SVD, as a (fan_in, fan_out) matrix, reshaped back.

    Keeps the kernel's row and column spaces (the directions it learned) and
    sets every singular value to 1, as an `Orthogonal` initializer would.
    """
    matrix = np.asarray(kernel, dtype="float64").reshape(-1, kernel.shape[-1])
    # The polar factor M (M^T M)^(-1/2), from the eigenvectors of the smaller
    # Gram matrix: the same U V^T, an order of magnitude faster than an SVD
    # on large kernels. An SVD where M is (nearly) rank-deficient.
    tall = matrix.shape[0] >= matrix.shape[1]
    a = matrix if tall else matrix.T
    eigenvalues, vectors = np.linalg.eigh(a.T @ a)
    if np.all(np.isfinite(eigenvalues)) and eigenvalues[0] > 1e-10 * eigenvalues[-1]:
        polar = a @ (vectors / np.sqrt(eigenvalues)) @ vectors.T
        polar = polar if tall else polar.T
    else:
        u, _, vt = np.linalg.svd(matrix, full_matrices=False)
        polar = u @ vt
    return polar.reshape(kernel.shape).astype("float32")


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

    Every Dense/Conv kernel (a separable convolution's pointwise kernel)
    becomes its nearest orthogonal matrix; depthwise kernels keep their
    per-channel filters. Then, in one pass through the model's graph on
    `x_batch`, each layer's kernel is scaled to the output standard deviation
    `target` (None: `target_std(layer)`, 1 or 0.5 for tanh) and its bias
    shifted so each output unit has zero mean (`lsuv(..., center=True)`), and
    each BatchNormalization layer's moving statistics are set to its inputs'
    there, since the kernels that feed it have changed. Every layer is
    handled just before it runs, so it sees the final state of all the
    layers before it.

    All or nothing: if any step fails, every variable of `model` is put back
    as it was and the error is raised. A batch of fewer than 2 samples or
    with NaN or inf, or a model with NaN or inf weights, is refused before
    anything changes; so is a result that is not finite.
    """
    batch = _guard.as_array(x_batch)
    if batch is None:
        raise TypeError(
            f"calibrate() takes a NumPy array or tensor of input samples, but "
            f"got {type(x_batch).__name__}. Pass a few hundred real samples, "
            f"e.g. x_train[:512]."
        )
    _guard.check_samples(batch, "The calibration batch", 2)
    _guard.check_variables_finite(model.variables, f"The model {model.name!r}")
    saved = [
        (variable, np.array(keras.ops.convert_to_numpy(variable)))
        for variable in model.variables
    ]
    try:
        for layer in kernel_layers(model):
            if isinstance(layer, DEPTHWISE):
                continue
            kernel = scale_variable(layer)
            values = keras.ops.convert_to_numpy(kernel)
            kernel.assign(nearest_orthogonal(values).astype(values.dtype))
        goal = target_std if target is None else (lambda layer: target)
        run_rescaling(
            model,
            keras.ops.convert_to_tensor(np.asarray(batch, dtype="float32")),
            goal,
            center=True,
            refresh=True,
            tolerance=0.02,
            max_iterations=10,
        )
        _guard.check_variables_finite(
            model.variables,
            f"Calibrating {model.name!r} gave a model that",
            "The batch's values may be too large for float32: scale the "
            "inputs to about unit range.",
        )
    except BaseException:
        for variable, value in saved:
            variable.assign(value)
        raise
    return model


def refresh_batch_statistics(model, x_batch):
    """Sets BatchNormalization moving statistics to their inputs' on `x_batch`.

    One pass through the model's graph in inference mode, each layer's
    statistics set just before it runs (so later layers see refreshed ones).

    Returns:
        Whether there were statistics to refresh.
    """
    norms = [
        layer
        for layer in leaf_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    if not norms:
        return False

    def before(layer, args):
        if any(layer is norm for norm in norms):
            _probe.set_batch_statistics(layer, args[0])

    _graph.run(model, keras.ops.convert_to_tensor(x_batch), before)
    return True


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
