"""calibrate: orthogonal kernels, then unit-variance, centred layer outputs."""

import time
import warnings
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from keras_ganinit._src.calibration import looks_linear as _looks_linear
from keras_ganinit._src.calibration.coverage import left_as_they_were
from keras_ganinit._src.calibration.layer_rules import (
    Settings,
    calibrated_layers,
    rule_of,
)
from keras_ganinit._src.calibration.orthogonal import nearest_orthogonal
from keras_ganinit._src.calibration.report import CalibrationReport
from keras_ganinit._src.calibration.rescaling import (
    LARGEST_TARGET,
    all_or_nothing,
    run_rescaling,
)
from keras_ganinit._src.calibration.residual import ResidualStreams
from keras_ganinit._src.diagnostics.statistics import measure, row
from keras_ganinit._src.graph import probe as _probe
from keras_ganinit._src.graph.activations import applied_activations
from keras_ganinit._src.graph.layers import (
    DEPTHWISE,
    excluded,
    extractor_of,
    kernel_layers,
    rescales_its_input,
    scale_variable,
)
from keras_ganinit._src.utils import arrays
from keras_ganinit._src.utils.checks import (
    Seed,
    check_flag,
    check_seed,
    check_verbose,
    is_number,
    seed_value,
)
from keras_ganinit._src.utils.data import SAMPLES, sample_batch

# Output std that calibration gives a layer, by the activation its output
# gets (fused, or an activation layer right after it): tanh's slope falls
# off beyond |x| = 1, and a smaller target kept more of its units in the
# linear range (docs/benchmarks/init-quality.md has the measurement). Every other
# activation gets the LSUV standard, 1.
TARGET_STD = {"tanh": 0.5}


def default_targets(applied):
    """The target std of each layer, by the activation it gets (`applied`)."""
    return lambda layer: TARGET_STD.get(applied.get(layer, "linear"), 1.0)


def check_target(target):
    """`target` if None or a number > 0, else a ValueError saying what to pass."""
    if target is None or (is_number(target) and 0 < target <= LARGEST_TARGET):
        return None if target is None else float(target)
    wanted = (
        f"calibration_target_std must be None (output std 1 for every layer, "
        f"0.5 for tanh layers) or a number > 0 and at most {LARGEST_TARGET:g} "
        f"for every layer, but got "
        f"{target!r}."
    )
    if callable(target):
        raise TypeError(
            f"{wanted} A function is not taken here: GanInitModel saves its "
            f"arguments in its config, which holds no code. Pass "
            f"calibration=False, then keras_ganinit.calibrate(gan, x, "
            f"target_std=your_function) after fit."
        )
    raise ValueError(f"{wanted} Pass 1.0 to give tanh layers unit output std too.")


def calibrate(
    model: keras.Model,
    x: Any,
    target_std: "float | Callable[[keras.layers.Layer], float] | None" = None,
    exclude: Any = (),
    samples: int | None = SAMPLES,
    verbose: int | str = 0,
    *,
    looks_linear: bool = False,
    seed: Seed = None,
    warn_unscaled: bool = True,
    chrono: bool = False,
    residual_scale: float | None = None,
) -> CalibrationReport:
    """Calibrates every layer of a model on data: orthogonal, unit variance, centred.

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

    Recurrent layers (SimpleRNN, LSTM, GRU, ConvLSTM, and Bidirectional),
    MultiHeadAttention, Embedding and TimeDistributed layers get their own
    rules in the same pass: orthogonal gate blocks whose input part gets the
    target std on the real sequences, with centred gates (the LSTM forget
    gate at 1); attention logits with std 1 within each query's row, values
    and output at the target std; embeddings centred at the target std.
    Where a branch is added back to the stream it came from (`h + f(h)`),
    the branch's last weighted layer is scaled so that the branch joins at
    `residual_scale` times the stream's std (by default 1/sqrt(number of
    residual merges), which keeps the stream's std within a factor 1.65 of
    its start at any depth). docs/sequences.md has the details.

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
        x: real input samples: a NumPy array or tensor, a batched
            `tf.data.Dataset`, a `keras.utils.PyDataset` or a generator of
            batches (its first `samples` samples; batches may be `(x, y)`).
        target_std: the output standard deviation each layer gets: None
            (the default) for 1, or 0.5 for tanh layers (whose slope falls
            off beyond 1); a number > 0 for every layer; or a function of
            the layer that returns one.
        exclude: layers to leave exactly as they are: a layer or its name,
            a list of them, or a function of the layer that returns True.
            For example the classifier's head, `exclude="head"`.
        samples: how many of the first samples of `x` to measure (None: all
            of an array).
        verbose: 0 (silent) or 1 (print the report), as Keras's levels.
        looks_linear: give the layers that can take one a looks-linear
            kernel first (see above).
        seed: an integer to make the looks-linear kernels and chrono gates
            reproducible, a `keras.random.SeedGenerator` (one draw from
            it), or None to draw them from NumPy's global generator (which
            `keras.utils.set_random_seed` seeds).
        warn_unscaled: warn when `x` looks unscaled (integers, or values
            beyond 100 in magnitude) and the model does not rescale its
            input itself (token ids into an Embedding never warn).
        chrono: start each LSTM forget gate (GRU update gate) at log(u), u
            uniform in [1, steps - 1] for the number of steps in `x`, and
            the LSTM input gate at -log(u) (chrono initialization, Tallec &
            Ollivier 2018); False: the forget gate at 1 where the layer's
            `unit_forget_bias` says so, other gates centred at 0.
        residual_scale: the std each residual branch joins its stream with,
            relative to the stream's: None for 1/sqrt(number of residual
            merges in the model), or a number > 0 (0.01 starts every block
            close to the identity, as SkipInit does).

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
    layers = calibrated_layers(model)
    if not layers:
        left = left_as_they_were(model, [])
        named = "".join(f" {r['layer']} ({r['class']}): {r['why']}." for r in left[:6])
        raise ValueError(
            f"Model {model.name!r} has no layer that calibrate() calibrates "
            f"(Dense, convolution, EinsumDense, recurrent, MultiHeadAttention, "
            f"Embedding or TimeDistributed)."
            + (f" Its layers with weights:{named}" if left else "")
        )
    skip = excluded(exclude, layers, "calibrate()", "layers calibrate() calibrates")
    applied = applied_activations(model)
    goal = target_function(target_std, model, applied=applied)
    verbose = check_verbose(verbose, "calibrate()")
    looks_linear = check_flag(
        looks_linear,
        "looks_linear",
        "Pass True for a looks-linear start of the ReLU/GELU layers of an "
        "untrained model.",
    )
    warn_unscaled = check_flag(
        warn_unscaled,
        "warn_unscaled",
        "Pass False when the inputs are scaled on purpose as they are.",
    )
    chrono = check_flag(
        chrono,
        "chrono",
        "Pass True for gate biases set from the sequences' length.",
    )
    residual_scale = check_residual_scale(residual_scale)
    seed = check_seed(
        seed, "calibrate()'s ", "reproducible looks-linear kernels and chrono gates"
    )
    batch = sample_batch(x, samples, "calibrate()", model)
    if warn_unscaled and not rescales_its_input(model):
        arrays.warn_if_unscaled(batch, "calibrate()")
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
    seed = seed_value(seed)
    # Only the calibrated layers are measured for the report, before, and
    # after in calibrate's own pass: each pass through the model is what it
    # costs.
    rows_of = set(map(id, layers)).__contains__
    before, count, _ = measure(
        model, batch, batch_statistics=False, select=lambda layer: rows_of(id(layer))
    )
    settings = Settings(goal, chrono=chrono, seed=seed)
    after: dict = {}
    starts, scales = _calibrate_in_place(
        model, batch, settings, skip, forms, residual_scale, (rows_of, after)
    )
    for layer, scale in scales.items():  # scaled after it was measured
        for key in ("pre_activation_std", "pre_activation_mean"):
            if layer.name in after:  # a normalization ending a branch has no row
                after[layer.name][key] *= scale
    rows = [
        {
            "layer": layer.name,
            "class": type(layer).__name__,
            "activation": applied.get(layer, r["activation"]),
            "target_std": None
            if layer in skip
            else float(goal(layer)) * scales.get(layer, 1.0),
            "kernel": _start(layer, skip, starts, scales),
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
        rows,
        model.name,
        count,
        seconds=time.perf_counter() - start,
        left=left_as_they_were(model, layers),
    )
    if verbose:
        print(report)
    return report


def target_function(target_std, model, who="calibrate()", applied=None):
    """`target_std=` checked, as a function of the layer (calibrate, lsuv).

    `applied`: `applied_activations(model)`, if the caller has it already.
    """
    if target_std is None:
        return default_targets(applied or applied_activations(model))
    if callable(target_std):
        return target_std
    if not (is_number(target_std) and 0 < target_std <= LARGEST_TARGET):
        raise ValueError(
            f"{who}'s target_std must be None (1, or 0.5 for tanh layers), a "
            f"number > 0 and at most {LARGEST_TARGET:g}, or a function of the "
            f"layer returning one, but got {target_std!r}. Pass e.g. "
            f"target_std=1.0."
        )
    return lambda layer: float(target_std)


def check_residual_scale(value):
    """`residual_scale=` checked: None, or a number in (0, 1e4]."""
    if value is None or (is_number(value) and 0 < value <= LARGEST_TARGET):
        return None if value is None else float(value)
    raise ValueError(
        f"calibrate()'s residual_scale must be None (each residual branch "
        f"joins its stream at the stream's std / sqrt(number of residual "
        f"merges)) or a number > 0 (the branch's std over the stream's at "
        f"every merge, e.g. 0.01 to start every block close to the identity), "
        f"but got {value!r}."
    )


def _start(layer, skip, starts, scales):
    """What calibrate did to `layer`, as the report names it."""
    if layer in skip:
        return None
    start = starts[layer]
    if layer in scales:
        start = f"{start}, residual branch x{scales[layer]:.3g}"
    return start


def _calibrate_in_place(
    model, batch, settings, skip, forms=None, residual=None, record=None
):
    """Calibrates every layer in one pass; restores everything on error.

    `record`: (which layers, {layer name: statistics row}) to measure each
    such layer's output there, as it stands after calibration (before a
    residual merge scales it). Returns ({layer: what its start became},
    {layer ending a residual branch: the factor its output got}).
    """
    forms = forms or {}
    starts = {}
    observe = None
    if record is not None:
        wanted, rows = record
        facts = _probe.GraphFacts(model)

        def observe(layer, args, kwargs, output):
            if not wanted(id(layer)) or layer.name in rows:
                return output
            probe, output = _probe.probe_call(layer, args, kwargs, facts, None, output)
            rows[layer.name] = row(probe, margin=0.02)
            return output

    with all_or_nothing(model, "Calibrating"):
        _looks_linear.assign(forms, settings.seed)
        for layer in kernel_layers(model):
            if layer in skip:
                continue
            starts[layer] = forms.get(layer, "orthogonal")
            if isinstance(layer, DEPTHWISE):
                starts[layer] = "kept (depthwise)"
            if isinstance(layer, DEPTHWISE) or layer in forms:
                continue
            kernel = scale_variable(layer)
            values = keras.ops.convert_to_numpy(kernel)
            kernel.assign(nearest_orthogonal(values).astype(values.dtype))
        streams = ResidualStreams(model, residual, skip)

        def special(layer, args, kwargs):
            streams.remember(layer, args, kwargs)
            rule = rule_of(layer)
            if rule is not None:
                starts[layer], output = rule(layer, args, kwargs, settings)
                return True, output
            output = streams.merge(layer, args, kwargs)
            return output is not None, output

        run_rescaling(
            model,
            keras.ops.convert_to_tensor(np.asarray(batch, dtype="float32")),
            settings.target_of,
            center=True,
            refresh=True,
            skip=skip,
            special=special,
            observe=observe,
            tolerance=0.02,
            max_iterations=10,
        )
    return starts, streams.scales
