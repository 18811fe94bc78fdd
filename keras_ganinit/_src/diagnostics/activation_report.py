"""Per-layer activation statistics of a model on a batch: is its init healthy?"""

import os
from typing import Any

import keras

from keras_ganinit._src.diagnostics.statistics import KEYS, measure
from keras_ganinit._src.utils import plots as _plots
from keras_ganinit._src.utils.checks import fraction, is_number
from keras_ganinit._src.utils.data import SAMPLES, sample_batch
from keras_ganinit._src.utils.deprecation import renamed_arguments
from keras_ganinit._src.utils.tables import text_table

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


class ActivationReport:
    """Per-layer activation statistics of a model on one batch.

    Made by `activation_report(model, x)`. `rows` holds one dict per
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
        keys = list(KEYS)
        if any(r.get("attention_entropy") is not None for r in self.rows):
            header = (*header, "attention entropy")
        else:
            keys.remove("attention_entropy")
        lines = [
            ["" if r.get(key) is None else r[key] for key in keys] for r in self.rows
        ]
        return (
            f"Activation report of {self.model_name!r} on {self.samples} "
            f"samples\n{text_table(header, lines, left=3)}"
        )

    @renamed_arguments(ignore="exclude")
    def problems(
        self,
        max_dead: float = 0.5,
        max_saturated: float = 0.5,
        min_std: float = 0.01,
        max_std: float = 100.0,
        exclude: Any = (),
    ) -> list:
        """What `check` would complain about: a list of (kind, row, reason)."""
        _check_thresholds(max_dead, max_saturated, min_std, max_std)
        names = [r["layer"] for r in self.rows]
        if callable(exclude) and not isinstance(exclude, keras.layers.Layer):
            exclude = {r["layer"] for r in self.rows if exclude(r)}
        single = isinstance(exclude, (str, keras.layers.Layer))
        exclude = {
            item.name if isinstance(item, keras.layers.Layer) else item
            for item in ([exclude] if single else exclude)
        }
        unknown = exclude - set(names)
        if unknown:
            raise ValueError(
                f"exclude= names {sorted(unknown)}, which are not layers of this "
                f"report. Its layers are: {', '.join(names[:10])}"
                f"{', ...' if len(names) > 10 else ''} (report.rows has them all)."
            )
        found = []
        for r in self.rows:
            if r["layer"] in exclude:
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

    @renamed_arguments(ignore="exclude")
    def check(
        self,
        max_dead: float = 0.5,
        max_saturated: float = 0.5,
        min_std: float = 0.01,
        max_std: float = 100.0,
        exclude: Any = (),
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
            exclude: layers not to check: a layer or its name, a list of
                them, or a function of a row that returns True for the rows
                to skip (`ignore=`, its name before 0.3.0, is deprecated).
                For layers small on purpose: an output layer initialized to
                zeros, ConvNeXt's residual branches scaled by 1e-6
                (`exclude=lambda row: "layer_scale" in row["layer"] or
                "identity" in row["layer"]`).

        Returns:
            This report, so that `activation_report(model, x).check()` chains.
        """
        found = self.problems(max_dead, max_saturated, min_std, max_std, exclude)
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
                    "pass check(exclude=[its name]) or a looser threshold.",
                ]
            )
        )

    def plot(self, path: "str | os.PathLike | None" = None) -> Any:
        """Draws the report: one row per layer, top to bottom, in three panels.

        The spreads (pre-activation and output std, log scale), then the dead
        and saturated fractions; the layers `problems()` finds with the
        default thresholds have their names in red. The figure grows with
        the number of layers, so the names of a 150-layer model stay
        readable.

        Args:
            path: where to write a PNG; None writes nothing.

        Returns:
            The `matplotlib.figure.Figure` (made without pyplot, so it works
            without a display).
        """
        names = [r["layer"] for r in self.rows]
        unhealthy = {r["layer"] for _, r, _ in self.problems()}
        fig, (spreads, dead, saturated), y = _plots.layer_panels(
            "ActivationReport.plot()",
            names,
            3,
            marked=unhealthy,
            title=f"Activations of {self.model_name!r} on {self.samples} samples"
            + (f"; {len(unhealthy)} unhealthy layers in red" if unhealthy else ""),
        )
        for key, label, style in (
            ("pre_activation_std", "pre-activation std", "o-"),
            ("output_std", "output std", "s--"),
        ):
            values = _plots.positive([r[key] for r in self.rows])
            spreads.plot(values, y, style, markersize=3, label=label)
        spreads.set_xscale("log")
        spreads.set_xlabel("std over the batch")
        spreads.legend(fontsize=_plots.FONT_SIZE)
        for axis, key, label in (
            (dead, "dead_fraction", "dead units (fraction)"),
            (saturated, "saturated_fraction", "saturated outputs (fraction)"),
        ):
            axis.barh(y, [r[key] for r in self.rows], color="tab:red")
            axis.set_xlim(0, 1)
            axis.set_xlabel(label)
        if path is not None:
            fig.savefig(path, dpi=100)
        return fig


def _check_thresholds(max_dead, max_saturated, min_std, max_std):
    fraction(max_dead, "max_dead")
    fraction(max_saturated, "max_saturated")
    if not (is_number(min_std) and is_number(max_std) and 0 <= min_std < max_std):
        raise ValueError(
            f"min_std and max_std must be numbers with 0 <= min_std < max_std, "
            f"but got min_std={min_std!r}, max_std={max_std!r}."
        )


@renamed_arguments(x_batch="x")
def activation_report(
    model: keras.Model,
    x: Any,
    margin: float = 0.02,
    batch_statistics: bool = True,
    samples: int | None = SAMPLES,
) -> ActivationReport:
    """Measures every layer's activations on a batch: is the init healthy?

    Runs `model` once on `x` in inference mode, one layer at a time
    (nested models, branches and shared layers included), and records, for
    each layer that has weights or applies an activation (Dense, Conv,
    BatchNormalization, Activation, ReLU, LSTM, MultiHeadAttention,
    Embedding...; not Flatten, pooling, Concatenate, Reshape) or adds its
    inputs (an `Add` layer or `a + b`: a residual stream), how its values
    spread before and after its
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
    - `attention_entropy`: for a `MultiHeadAttention` layer, the entropy of
      its attention over the keys divided by log(number of keys), averaged
      over queries, heads and samples: 1 for uniform attention (each query
      averages every key), 0 for one-hot (each query sees one key, where
      the softmax passes no gradient). None for every other layer.

    Args:
        model: a built functional or Sequential `keras.Model`.
        x: its inputs, without NaN or inf, in any form `calibrate` takes
            (an array, a batched dataset, a generator of batches; a list of
            arrays for a model with several inputs): a few hundred samples.
            (`x_batch=`, its name before 0.3.0, is deprecated.)
        margin: how close to an activation's limit counts as saturated. At
            the default 0.02 a saturated tanh passes at most 4% of its
            largest gradient, a sigmoid at most 8%.
        batch_statistics: whether BatchNormalization layers normalize with
            the batch's own mean and variance, as they do in training (the
            default: at initialization their moving statistics are still 0
            and 1, which normalize nothing), or with their moving statistics,
            as in inference (False: for a trained model). Either way the
            model's variables are left as they were.
        samples: how many of the first samples of `x` to measure (None:
            all of an array).

    Returns:
        An `ActivationReport`: `rows`, `str()`, `plot()`, `check()`.

    Example:

    >>> import keras, numpy as np
    >>> from keras_ganinit import activation_report
    >>> model = keras.Sequential([keras.Input((4,)),
    ...     keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    >>> report = activation_report(model, x)
    >>> print(", ".join(row["class"] + " " + row["activation"] for row in report.rows))
    Dense relu, Dense linear
    >>> report.check() is report
    True
    """
    if isinstance(model, keras.Model) and model.built:
        x = sample_batch(x, samples, "activation_report()", model)
    rows, count, normalized = measure(model, x, margin, batch_statistics)
    return ActivationReport(rows, model.name, count, margin, normalized)
