"""Per-layer activation statistics of a model on a batch: is its init healthy?"""

import os
from typing import Any

import keras
import numpy as np

from keras_ganinit import _plots, _probe
from keras_ganinit._guard import as_array, non_finite_message

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

# Layers that undo the scale of their input: a layer that only feeds them
# is not judged on its std.
NORMALIZATION = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
)

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
)

ADVICE = {
    "non-finite": "non-finite: the first layer listed has weights holding NaN "
    "or inf (or values so large they overflow), and every layer after it "
    "inherits them; find them with [np.isfinite(w).all() for w in "
    "layer.get_weights()] and re-initialize or reload them.",
    "dead": "dead: ReLU units that never fire get no gradient; look at the "
    "bias_initializer (a negative constant), use He initialization "
    "(he_normal), or a leaky activation.",
    "saturated": "saturated: tanh/sigmoid units stuck at their limits pass "
    "almost no gradient; use smaller kernels (glorot_uniform, lecun_normal), "
    "standardize the inputs, or run keras_ganinit.lsuv(model, x).",
    "exploding": "exploding: the kernels are too large for the depth; use a "
    "variance-preserving initializer (he_normal for ReLU, lecun_normal or "
    "glorot_uniform otherwise), standardize the inputs, or run "
    "keras_ganinit.lsuv(model, x).",
    "vanishing": "vanishing: the kernels are too small for the depth (every "
    "input gives nearly the same values); use a variance-preserving "
    "initializer (he_normal for ReLU, lecun_normal or glorot_uniform "
    "otherwise), or run keras_ganinit.lsuv(model, x).",
}


def activation_name(layer):
    """The name of the activation `layer` applies ("linear" if none)."""
    if isinstance(layer, keras.layers.ReLU):
        if layer.negative_slope:
            return "leaky_relu"
        return "relu6" if layer.max_value == 6 and not layer.threshold else "relu"
    for classes, name in (
        (keras.layers.LeakyReLU, "leaky_relu"),
        (keras.layers.ELU, "elu"),
        (keras.layers.PReLU, "prelu"),
        (keras.layers.Softmax, "softmax"),
    ):
        if isinstance(layer, classes):
            return name
    function = getattr(layer, "activation", None)
    if function is None:
        return "linear"
    return getattr(function, "__name__", type(function).__name__)


def is_reported(layer):
    """Whether `layer` gets a row: it has weights or applies an activation."""
    return (
        bool(getattr(layer, "weights", None))
        or isinstance(layer, _probe.ACTIVATION_LAYERS)
        or callable(getattr(layer, "activation", None))
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
        }


def number(value):
    """`value` with 3 significant digits, for tables."""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def table(header, lines, left):
    """A fixed-width table: the first `left` columns left-aligned."""
    cells = [list(header)] + [[number(v) for v in line] for line in lines]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]

    def render(line):
        return "  ".join(
            cell.ljust(w) if i < left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    return "\n".join([render(cells[0]), rule, *map(render, cells[1:])])


def figure(panels, width):
    """A headless matplotlib Figure with `panels` stacked axes sharing x."""
    fig = _plots.new_figure(
        "ActivationReport.plot()", figsize=(width, 3.0 * panels + 1.5)
    )
    return fig, fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]


def positive(values):
    """`values` with zeros and non-finite values as NaN (gaps on a log axis)."""
    values = np.asarray(values, dtype="float64")
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def label_layers(axis, names):
    axis.set_xticks(range(len(names)))
    axis.set_xticklabels(names, rotation=60, ha="right", fontsize=8)


class ActivationReport:
    """Per-layer activation statistics of a model on one batch.

    Made by `activation_report(model, x_batch)`. `rows` holds one dict per
    layer that has weights or applies an activation, in the order the layers
    ran; `str(report)` shows them as a table, `plot()` draws them and
    `check()` raises if a layer is dead, saturated, exploding, vanishing or
    not finite.

    Args:
        rows: the list of row dicts (keys as in `activation_report`).
        model_name: the name of the model measured.
        samples: how many samples the batch had.
        margin: the margin `saturated_fraction` was measured with.
        normalized: names of the layers whose output only feeds normalization
            layers (BatchNormalization, LayerNormalization,
            GroupNormalization), which `check` does not judge on their std.
    """

    def __init__(
        self,
        rows: list,
        model_name: str = "model",
        samples: int | None = None,
        margin: float = 0.02,
        normalized: "tuple | list" = (),
    ) -> None:
        self.rows = list(rows)
        self.model_name = model_name
        self.samples = samples
        self.margin = margin
        self.normalized = tuple(normalized)

    def __repr__(self):
        return (
            f"<ActivationReport of {self.model_name!r} on {self.samples} "
            f"samples: {len(self.rows)} layers>"
        )

    def __str__(self):
        header = (
            "layer",
            "class",
            "activation",
            "pre_mean",
            "pre_std",
            "out_mean",
            "out_std",
            "dead",
            "saturated",
            "finite",
        )
        lines = [[r[key] for key in KEYS] for r in self.rows]
        return (
            f"Activation report of {self.model_name!r} on {self.samples} "
            f"samples\n{table(header, lines, left=3)}"
        )

    def problems(
        self,
        max_dead: float = 0.5,
        max_saturated: float = 0.5,
        min_std: float = 0.01,
        max_std: float = 100.0,
        ignore: Any = (),
    ) -> list:
        """What `check` would complain about: a list of (kind, row, reason)."""
        _check_thresholds(max_dead, max_saturated, min_std, max_std)
        names = [r["layer"] for r in self.rows]
        if callable(ignore):
            ignore = {r["layer"] for r in self.rows if ignore(r)}
        ignore = set([ignore] if isinstance(ignore, str) else ignore)
        unknown = ignore - set(names)
        if unknown:
            raise ValueError(
                f"ignore= names {sorted(unknown)}, which are not layers of this "
                f"report. Its layers are: {', '.join(names[:10])}"
                f"{', ...' if len(names) > 10 else ''} (report.rows has them all)."
            )
        found = []
        for r in self.rows:
            if r["layer"] in ignore:
                continue
            if not r["finite"]:
                found.append(("non-finite", r, "its output holds NaN or inf"))
                continue
            if r["dead_fraction"] > max_dead:
                found.append(
                    (
                        "dead",
                        r,
                        f"{r['dead_fraction']:.0%} of its units are zero on every "
                        f"sample (max_dead={max_dead:g})",
                    )
                )
            if r["saturated_fraction"] > max_saturated:
                found.append(
                    (
                        "saturated",
                        r,
                        f"{r['saturated_fraction']:.0%} of its outputs are within "
                        f"{self.margin:g} of the {r['activation']} limits "
                        f"(max_saturated={max_saturated:g})",
                    )
                )
            std = r["pre_activation_std"]
            if r["layer"] in self.normalized:
                continue
            if not std <= max_std:
                found.append(
                    (
                        "exploding",
                        r,
                        f"pre-activation std {std:.3g} > max_std={max_std:g}",
                    )
                )
            elif std < min_std:
                found.append(
                    (
                        "vanishing",
                        r,
                        f"pre-activation std {std:.3g} < min_std={min_std:g}",
                    )
                )
        return found

    def check(
        self,
        max_dead: float = 0.5,
        max_saturated: float = 0.5,
        min_std: float = 0.01,
        max_std: float = 100.0,
        ignore: Any = (),
    ) -> "ActivationReport":
        """Raises a ValueError if any layer is unhealthy; returns the report if not.

        A layer is flagged when its output is not finite (NaN or inf), or
        when more than `max_dead` of its units (channels) are dead, more than
        `max_saturated` of its output values are saturated, or its
        `pre_activation_std` (the spread over the batch, per unit) is above
        `max_std` (exploding) or below `min_std` (vanishing). The std limits
        are absolute: variance-preserving initializers (He, LeCun, Glorot)
        keep it near the scale of standardized inputs, about 1, so 100 times
        more or less means the scale grows or shrinks layer after layer. A
        layer whose output only feeds normalization layers (a Conv2D before
        its BatchNormalization) is not judged on its std: they undo its
        scale. Every threshold is exclusive: a value equal to it passes.

        Args:
            max_dead: the largest healthy `dead_fraction`.
            max_saturated: the largest healthy `saturated_fraction`.
            min_std: the smallest healthy `pre_activation_std`.
            max_std: the largest healthy `pre_activation_std`.
            ignore: layers not to check: a name, a list of names, or a
                function of a row that returns True for the rows to skip.
                For layers small on purpose: an output layer initialized to
                zeros, ConvNeXt's residual branches scaled by 1e-6
                (`ignore=lambda row: "layer_scale" in row["layer"] or
                "identity" in row["layer"]`).

        Returns:
            This report, so that `activation_report(model, x).check()` chains.
        """
        found = self.problems(max_dead, max_saturated, min_std, max_std, ignore)
        if not found:
            return self
        lines = [
            f"  - {r['layer']!r} ({r['class']}, {r['activation']}): {kind}: {reason}"
            for kind, r, reason in found
        ]
        kinds = dict.fromkeys(kind for kind, _, _ in found)
        advice = [f"  - {ADVICE[kind]}" for kind in kinds]
        bad = len({id(r) for _, r, _ in found})
        raise ValueError(
            "\n".join(
                [
                    f"The activations of model {self.model_name!r} on "
                    f"{self.samples} samples look unhealthy in {bad} of "
                    f"{len(self.rows)} layers:",
                    *lines,
                    "What to do:",
                    *advice,
                    "Fix the first layer listed first: the layers after it "
                    "inherit its problem. If a layer is meant to be this way, "
                    "pass check(ignore=[its name]) or a looser threshold.",
                ]
            )
        )

    def plot(self, path: "str | os.PathLike | None" = None) -> Any:
        """Draws the report: spreads (log scale) above, dead/saturated below.

        Args:
            path: where to write a PNG; None writes nothing.

        Returns:
            The `matplotlib.figure.Figure` (made without pyplot, so it works
            without a display).
        """
        names = [r["layer"] for r in self.rows]
        fig, (top, bottom) = figure(2, max(6.0, 0.4 * len(names) + 2.0))
        x = np.arange(len(names))
        for key, label in (
            ("pre_activation_std", "pre-activation std"),
            ("output_std", "output std"),
        ):
            top.plot(x, positive([r[key] for r in self.rows]), "o-", label=label)
        top.set_yscale("log")
        top.set_ylabel("std over the batch")
        top.set_title(f"Activations of {self.model_name!r} on {self.samples} samples")
        top.legend(fontsize=8)
        for key, label, style in (
            ("dead_fraction", "dead units", "o-"),
            ("saturated_fraction", "saturated outputs", "s--"),
        ):
            bottom.plot(x, [r[key] for r in self.rows], style, label=label)
        bottom.set_ylim(-0.03, 1.03)
        bottom.set_ylabel("fraction")
        bottom.legend(fontsize=8)
        label_layers(bottom, names)
        if path is not None:
            fig.savefig(path, dpi=100)
        return fig


def _check_thresholds(max_dead, max_saturated, min_std, max_std):
    for name, value in (("max_dead", max_dead), ("max_saturated", max_saturated)):
        if not (_is_number(value) and 0 <= value <= 1):
            raise ValueError(
                f"{name} must be a fraction between 0 and 1, but got {value!r}."
            )
    if not (_is_number(min_std) and _is_number(max_std) and 0 <= min_std < max_std):
        raise ValueError(
            f"min_std and max_std must be numbers with 0 <= min_std < max_std, "
            f"but got min_std={min_std!r}, max_std={max_std!r}."
        )


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _batches(model, x_batch):
    """`x_batch` checked against `model`'s inputs, as a tensor (a list: several)."""
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
    given = list(x_batch) if several and isinstance(x_batch, (list, tuple)) else None
    if several and (given is None or len(given) != len(inputs)):
        raise ValueError(
            f"Model {model.name!r} has {len(inputs)} inputs, so x_batch must be "
            f"a list of {len(inputs)} arrays, one per input, but got "
            f"{type(x_batch).__name__}"
            + (f" of {len(given)}" if given is not None else "")
            + "."
        )
    batches = []
    for i, (batch, spec) in enumerate(zip(given or [x_batch], inputs, strict=True)):
        name = f"x_batch[{i}]" if several else "x_batch"
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
    message = non_finite_message(array, name)
    if message:
        raise ValueError(
            f"{message}. The report would blame the weights for what comes "
            f"from the data. Drop or impute those samples first, e.g. "
            f"x = x[np.isfinite(x).reshape(len(x), -1).all(axis=1)]."
        )
    dtype = spec.dtype or "float32"
    return keras.ops.convert_to_tensor(array.astype(dtype))


def activation_report(
    model: keras.Model,
    x_batch: Any,
    margin: float = 0.02,
    batch_statistics: bool = True,
) -> ActivationReport:
    """Measures every layer's activations on a batch: is the init healthy?

    Runs `model` once on `x_batch` in inference mode, one layer at a time
    (nested models, branches and shared layers included), and records, for
    each layer that has weights or applies an activation (Dense, Conv,
    BatchNormalization, Activation, ReLU...; not Flatten, pooling, Add,
    Concatenate, Reshape), how its values spread before and after its
    activation, how many of its units are dead, how many of its outputs are
    saturated and whether they are all finite. Nothing in the model changes.

    The keys of each row in `report.rows`:

    - `layer`, `class`: the layer's name and class name.
    - `activation`: the name of its activation ("relu", "tanh", "linear"
      if none); for an `Activation` layer the function's name; a `ReLU` layer
      is "relu", "relu6" (`max_value=6`) or "leaky_relu" (`negative_slope`).
    - `pre_activation_mean`, `pre_activation_std`: its output with its fused
      activation switched off (for an activation layer: its input). The
      mean is over every value. The std is the spread over the batch: the
      root mean square, over units (channels: the axis its `data_format`
      names, or that of the nearest layer upstream that has one), of each
      unit's standard deviation over samples and positions. A differing
      constant per unit does not count as spread.
    - `output_mean`, `output_std`: the same for its output.
    - `dead_fraction`: for "relu" and "relu6", the fraction of units
      (channels) whose output is zero for every sample and position; 0.0
      for every other activation (leaky ReLU, ELU, GELU, SiLU always pass
      some gradient).
    - `saturated_fraction`: for tanh, softsign, hard_tanh (limits -1, 1),
      sigmoid and hard_sigmoid (limits 0, 1), the fraction of output values
      within `margin` of a limit (`y <= low + margin` or
      `y >= high - margin`); 0.0 for every other activation.
    - `finite`: whether every value of its output is finite.

    Args:
        model: a built functional or Sequential `keras.Model`.
        x_batch: a batch of its inputs (a few hundred samples; a list of
            batches for a model with several inputs), without NaN or inf.
        margin: how close to an activation's limit counts as saturated. At
            the default 0.02 a saturated tanh passes at most 4% of its
            largest gradient, a sigmoid at most 8%.
        batch_statistics: whether BatchNormalization layers normalize with
            the batch's own mean and variance, as they do in training (the
            default: at initialization their moving statistics are still 0
            and 1, which normalize nothing), or with their moving statistics,
            as in inference (False: for a trained model). Either way the
            model's variables are left as they were.

    Returns:
        An `ActivationReport`: `rows`, `str()`, `plot()`, `check()`.

    Example:

    >>> import keras, numpy as np
    >>> from keras_ganinit.activation_report import activation_report
    >>> model = keras.Sequential([keras.Input((4,)),
    ...     keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    >>> report = activation_report(model, x)
    >>> print(", ".join(row["class"] + " " + row["activation"] for row in report.rows))
    Dense relu, Dense linear
    >>> report.check() is report
    True
    """
    if not (_is_number(margin) and 0 <= margin < 0.5):
        raise ValueError(
            f"margin must be a number with 0 <= margin < 0.5 (the distance to "
            f"an activation's limit that counts as saturated), but got {margin!r}."
        )
    x = _batches(model, x_batch)
    probes = _probe.layer_outputs(
        model, x, select=is_reported, batch_statistics=batch_statistics
    )
    samples = len(keras.tree.flatten(x)[0])
    normalized = [
        probe.layer.name
        for probe in probes
        if probe.consumers
        and all(isinstance(c, NORMALIZATION) for c in probe.consumers)
    ]
    return ActivationReport(
        [row(probe, margin) for probe in probes],
        model.name,
        samples,
        margin,
        normalized,
    )
