"""calibrate: orthogonal kernels, then unit-variance, centred layer outputs."""

import time
import warnings
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from keras_ganinit._src.calibration import looks_linear as _looks_linear
from keras_ganinit._src.calibration.report import CalibrationReport
from keras_ganinit._src.calibration.rescaling import run_rescaling
from keras_ganinit._src.diagnostics.statistics import measure
from keras_ganinit._src.graph.layers import (
    DEPTHWISE,
    extractor_of,
    kernel_layers,
    rescales_its_input,
    scale_variable,
)
from keras_ganinit._src.utils import arrays
from keras_ganinit._src.utils.checks import (
    check_flag,
    check_seed,
    is_number,
    positive_int,
)

# How many samples calibration measures by default (and after `fit`).
SAMPLES = 512


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


# Output std that calibration gives a layer, by its activation: tanh's slope
# falls off beyond |x| = 1, and a smaller target kept more of its units in
# the linear range (docs/benchmarks.md has the measurement). Every other
# activation gets the LSUV standard, 1.
TARGET_STD = {"tanh": 0.5}


def target_std_of(layer):
    """The output standard deviation calibration gives `layer`."""
    name = getattr(getattr(layer, "activation", None), "__name__", "")
    return TARGET_STD.get(name, 1.0)


def check_target(target):
    """`target` if None or a number > 0, else a ValueError saying what to pass."""
    if target is None or (is_number(target) and np.isfinite(target) and target > 0):
        return None if target is None else float(target)
    raise ValueError(
        f"calibration_target_std must be None (output std 1 for every layer, "
        f"0.5 for tanh layers) or a number > 0 for every layer, but got "
        f"{target!r}. Pass 1.0 to give tanh layers unit output std too."
    )


def calibrate(
    model: keras.Model,
    x: Any,
    target_std: "float | Callable[[keras.layers.Layer], float] | None" = None,
    exclude: Any = (),
    samples: int | None = SAMPLES,
    verbose: bool = False,
    *,
    looks_linear: bool = False,
    seed: int | None = None,
    warn_unscaled: bool = True,
) -> CalibrationReport:
    """Calibrates a model's kernels on data: orthogonal, unit variance, centred.

    The data-dependent start that `GanInitModel.fit` ends with, for any model
    the package can walk (an extractor, a whole classifier, any
    `keras.applications` CNN; a GanInitModel: its extractor). In one call:

    1. every Dense/Conv kernel (a separable convolution's pointwise kernel)
       becomes its nearest orthogonal matrix (U V^T of its SVD: the
       directions it holds, every singular value 1); depthwise kernels keep
       their per-channel filters;
    2. then, first layer to last, in the order of the model's graph, each
       kernel is rescaled so the layer's output before its activation has
       standard deviation `target_std` on the batch, and its bias is shifted
       so every output unit has zero mean there (`lsuv(..., center=True)`);
       BatchNormalization moving statistics are set to their inputs' on the
       batch. Each layer is handled just before it runs, so it sees the
       final state of every layer before it.

    With `looks_linear=True`, step 1 is a looks-linear start instead
    (`keras_ganinit.initializers.LooksLinear`; Balduzzi et al. 2017) for
    every Dense or plain convolution layer with an even number of units and
    an activation with `f(z) - f(-z) = z` (ReLU, leaky ReLU, GELU, SiLU,
    softplus; fused, or an activation layer right after it): it gets a
    freshly drawn kernel that puts out mirrored pairs `[z, -z]`, so that
    the next such layer can cancel the activation, and the whole stack
    starts as one deep linear orthogonal map. Which form each layer gets is
    read from the graph (after Dropout and average pooling the mirror
    holds; after max pooling or Flatten it starts anew), and the first
    layer after the stretch (e.g. the head) gets the kernel that maps the
    pairs back. These kernels replace what the layers held, so use it on an
    untrained model; other layers are orthogonalized as above. Step 2 then
    keeps the mirror. On plain ReLU and GELU networks 32 to 128 layers deep
    it trains where every shape-only start and the default calibration
    stay at chance; give it the learning rate of a shallow net times
    `min(1, 16 / depth)` (MLPs) or `min(1, 8 / depth)` (CNNs);
    docs/deep-networks.md has the measurements.

    All or nothing: if any layer cannot be calibrated (its output is
    constant or not finite on the batch), every variable is put back as it
    was and the error names the layer. Input with NaN or inf, fewer than 2
    samples, or a model with NaN or inf weights is refused before anything
    changes.

    Args:
        model: a built `keras.Model` (Sequential or functional, nested
            models included) or a `GanInitModel`.
        x: real input samples: a NumPy array or tensor, a
            `tf.data.Dataset` or a `keras.utils.PyDataset` (its first
            batches).
        target_std: the output standard deviation each layer gets: None
            (the default) for 1, or 0.5 for tanh layers (whose slope falls
            off beyond 1); a number > 0 for every layer; or a function of
            the layer that returns one.
        exclude: layers to leave exactly as they are: a name, a list of
            names, or a function of the layer that returns True. For
            example the classifier's head, `exclude="head"`.
        samples: how many of the first samples of `x` to measure (None: all
            of an array).
        verbose: print the report.
        looks_linear: give the layers that can take one a looks-linear
            kernel first (see above).
        seed: an integer to make the looks-linear kernels reproducible, or
            None to draw them from NumPy's global generator (which
            `keras.utils.set_random_seed` seeds).
        warn_unscaled: warn when `x` looks unscaled (integers, or values
            beyond 100 in magnitude) and the model does not rescale its
            input itself.

    Returns:
        A `CalibrationReport`: each layer's output std and mean before and
        after, and the start its kernel got; `print(report)` shows them as
        a table.

    Example:

    >>> import keras, numpy as np, keras_ganinit
    >>> model = keras.Sequential([keras.Input((16,)),
    ...     keras.layers.Dense(32, activation="tanh", name="hidden"),
    ...     keras.layers.Dense(3, name="head")])
    >>> x = np.random.default_rng(0).normal(3.0, 5.0, size=(256, 16))
    >>> report = keras_ganinit.calibrate(model, x, exclude="head")
    >>> report.layers
    ['hidden']
    >>> hidden, head = report.rows
    >>> round(hidden.get("std_after"), 2)  # tanh's target
    0.5
    >>> head.get("target_std") is None  # the head is left as it was
    True
    """
    start = time.perf_counter()
    model = extractor_of(model)
    if not isinstance(model, keras.Model) or not model.built:
        raise TypeError(
            f"calibrate() needs a built keras.Model (a Sequential or functional "
            f"model made with keras.Input) or a GanInitModel, but got "
            f"{type(model).__name__}."
        )
    layers = kernel_layers(model)
    if not layers:
        raise ValueError(
            f"Model {model.name!r} has no layer with a kernel (Dense, Conv...) "
            f"for calibrate() to calibrate."
        )
    skip = _excluded(layers, exclude)
    goal = _goal(target_std)
    looks_linear = check_flag(
        looks_linear,
        "looks_linear",
        "Pass True for a looks-linear start of the ReLU/GELU layers of an "
        "untrained model.",
    )
    seed = check_seed(seed, "calibrate()'s ", "reproducible looks-linear kernels")
    forms = _looks_linear.plan(model, skip) if looks_linear else {}
    if looks_linear and not forms:
        warnings.warn(
            f"calibrate(looks_linear=True) found no layer of {model.name!r} "
            f"that can take a looks-linear kernel: a Dense or Conv1D/2D/3D "
            f"layer with an even number of units and a ReLU, leaky ReLU, "
            f"GELU, SiLU or softplus activation (tanh and sigmoid cannot "
            f"mirror). It calibrated as without looks_linear.",
            UserWarning,
            stacklevel=2,
        )
    if samples is not None:
        samples = positive_int(samples, "samples", "how many samples to measure")
    batch = sample_batch(x, samples)
    if batch is None:
        raise TypeError(
            f"calibrate() takes a NumPy array or tensor of input samples (or a "
            f"tf.data.Dataset or PyDataset), but got {type(x).__name__}. Pass "
            f"a few hundred real samples, e.g. x_train[:512]."
        )
    arrays.check_samples(batch, "x", 2, who="calibrate()")
    if warn_unscaled and not rescales_its_input(model):
        arrays.warn_if_unscaled(batch, "calibrate()")
    before, count, _ = measure(model, batch, batch_statistics=False)
    _calibrate_in_place(model, batch, goal, skip, forms, seed)
    after, _, _ = measure(model, batch, batch_statistics=False)
    after = {r["layer"]: r for r in after}
    rows = [
        {
            "layer": layer.name,
            "class": type(layer).__name__,
            "activation": r["activation"],
            "target_std": None if layer in skip else float(goal(layer)),
            "kernel": _kernel_start(layer, skip, forms),
            "std_before": r["pre_activation_std"],
            "std_after": after[layer.name]["pre_activation_std"],
            "mean_before": r["pre_activation_mean"],
            "mean_after": after[layer.name]["pre_activation_mean"],
        }
        for r in before
        for layer in layers
        if layer.name == r["layer"]
    ]
    report = CalibrationReport(
        rows, model.name, count, seconds=time.perf_counter() - start
    )
    if verbose:
        print(report)
    return report


def _goal(target_std):
    """The target as a function of the layer."""
    if target_std is None:
        return target_std_of
    if callable(target_std):
        return target_std
    if not (is_number(target_std) and np.isfinite(target_std) and target_std > 0):
        raise ValueError(
            f"target_std must be None (1, or 0.5 for tanh layers), a number > 0 "
            f"or a function of the layer returning one, but got {target_std!r}."
        )
    return lambda layer: float(target_std)


def _excluded(layers, exclude):
    """The layers `exclude` names, checked: a list of layer objects."""
    if callable(exclude):
        return [layer for layer in layers if exclude(layer)]
    names = [exclude] if isinstance(exclude, str) else list(exclude or ())
    known = {layer.name for layer in layers}
    unknown = [name for name in names if name not in known]
    if unknown:
        shown = ", ".join(sorted(known)[:12]) + (", ..." if len(known) > 12 else "")
        raise ValueError(
            f"exclude= names {unknown}, which are not layers with a kernel in "
            f"this model. Its layers with a kernel: {shown}."
        )
    return [layer for layer in layers if layer.name in names]


def _kernel_start(layer, skip, forms):
    """What calibrate did to `layer`'s kernel, as the report names it."""
    if layer in skip:
        return None
    if layer in forms:
        return forms[layer]
    return "kept (depthwise)" if isinstance(layer, DEPTHWISE) else "orthogonal"


def _calibrate_in_place(model, batch, goal, skip, forms=None, seed=None):
    """Orthogonalizes, then rescales and centres; restores everything on error."""
    arrays.check_variables_finite(model.variables, f"The model {model.name!r}")
    saved = [
        (variable, np.array(keras.ops.convert_to_numpy(variable)))
        for variable in model.variables
    ]
    forms = forms or {}
    try:
        _looks_linear.assign(forms, seed)
        for layer in kernel_layers(model):
            if isinstance(layer, DEPTHWISE) or layer in skip or layer in forms:
                continue
            kernel = scale_variable(layer)
            values = keras.ops.convert_to_numpy(kernel)
            kernel.assign(nearest_orthogonal(values).astype(values.dtype))
        run_rescaling(
            model,
            keras.ops.convert_to_tensor(np.asarray(batch, dtype="float32")),
            goal,
            center=True,
            refresh=True,
            skip=skip,
            tolerance=0.02,
            max_iterations=10,
        )
        arrays.check_variables_finite(
            model.variables,
            f"Calibrating {model.name!r} gave a model that",
            "The batch's values may be too large for float32: scale the "
            "inputs to about unit range.",
        )
    except BaseException as error:
        for variable, value in saved:
            variable.assign(value)
        if isinstance(error, ValueError):
            raise ValueError(f"{error} No weight of the model was changed.") from error
        raise


def sample_batch(x, size):
    """Up to `size` input samples from `x` (None: all of an array), or None."""
    if isinstance(x, (list, tuple)):
        try:
            x = np.asarray(x, dtype="float32")
        except (TypeError, ValueError):
            return None
    if size is None and not hasattr(x, "shape"):
        size = SAMPLES  # a dataset: its first batches
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
