"""Activation reports of one architecture under several inits, side by side."""

import os
from collections.abc import Mapping
from typing import Any

from keras_ganinit._src.diagnostics.activation_report import ActivationReport
from keras_ganinit._src.utils import plots as _plots
from keras_ganinit._src.utils.tables import text_table

COLUMNS = (
    ("output_std", "std"),
    ("dead_fraction", "dead"),
    ("saturated_fraction", "sat"),
)


class ReportComparison:
    """Several `ActivationReport`s of the same architecture, layer by layer.

    Made by `compare_reports`. Layers are matched by position (two models
    built separately get different automatic layer names), and named after
    the first report's layers. `str()` is a table with each report's output
    std, dead fraction and saturated fraction per layer; `plot()` draws them
    with one line per report.

    Args:
        reports: a dict from a label ("He", "GAN") to an `ActivationReport`,
            already checked to have the same layer classes in the same order.
    """

    def __init__(self, reports: Mapping[str, ActivationReport]) -> None:
        self.reports = dict(reports)

    @property
    def layers(self):
        """The layer names of the first report: the name of each position."""
        first = next(iter(self.reports.values()))
        return [r["layer"] for r in first.rows]

    def __repr__(self):
        return f"<ReportComparison of {list(self.reports)}: {len(self.layers)} layers>"

    def __str__(self):
        first = next(iter(self.reports.values()))
        header = ["layer", "class"] + [
            f"{label} {short}" for label in self.reports for _, short in COLUMNS
        ]
        lines = [
            [r["layer"], r["class"]]
            + [
                report.rows[i][key]
                for report in self.reports.values()
                for key, _ in COLUMNS
            ]
            for i, r in enumerate(first.rows)
        ]
        labels = ", ".join(
            f"{label!r}: {report.model_name!r} on {report.samples} samples"
            for label, report in self.reports.items()
        )
        return (
            f"Activation reports compared ({labels}); std is the output std, "
            f"dead and sat(urated) are fractions\n{text_table(header, lines, left=2)}"
        )

    def plot(self, path: "str | os.PathLike | None" = None) -> Any:
        """Draws output std (log scale), dead and saturated fractions per layer.

        One row per layer, top to bottom, in three panels; one line per
        report in each.

        Args:
            path: where to write a PNG; None writes nothing.

        Returns:
            The `matplotlib.figure.Figure`.
        """
        fig, axes, y = _plots.layer_panels(
            "ReportComparison.plot()",
            self.layers,
            len(COLUMNS),
            title="Activation reports compared",
        )
        for label, report in self.reports.items():
            for axis, (key, _) in zip(axes, COLUMNS, strict=True):
                values = [r[key] for r in report.rows]
                if key == "output_std":
                    values = _plots.positive(values)
                axis.plot(values, y, "o-", markersize=3, label=label)
        axes[0].set_xscale("log")
        axes[0].legend(fontsize=_plots.FONT_SIZE)
        for axis, label in zip(
            axes, ("output std", "dead fraction", "saturated fraction"), strict=True
        ):
            axis.set_xlabel(label)
        for axis in axes[1:]:
            axis.set_xlim(-0.03, 1.03)
        if path is not None:
            fig.savefig(path, dpi=100)
        return fig


def compare_reports(reports: Mapping[str, ActivationReport]) -> ReportComparison:
    """Puts activation reports of one architecture side by side.

    Compares the same architecture under different initializations (or
    before and after training): each report's output std, dead fraction and
    saturated fraction, layer by layer. Layers are matched by position, since
    two models built separately get different automatic names; the reports
    must have the same number of rows and the same layer class in each.

    Args:
        reports: a dict from a label to an `ActivationReport`, e.g.
            `{"He": activation_report(a, x), "GAN": activation_report(b, x)}`.
            Labels keep their order in the table and the plot's legend.

    Returns:
        A `ReportComparison`: `str()` for the table, `plot()` for the figure.

    Example:

    >>> import keras, numpy as np
    >>> from keras_ganinit import activation_report
    >>> from keras_ganinit import compare_reports
    >>> def mlp(init):
    ...     return keras.Sequential([keras.Input((4,)),
    ...         keras.layers.Dense(8, "relu", kernel_initializer=init)])
    >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    >>> both = compare_reports({"He": activation_report(mlp("he_normal"), x),
    ...     "zeros": activation_report(mlp("zeros"), x)})
    >>> "He dead" in str(both) and "zeros dead" in str(both)
    True
    >>> zeros = both.reports["zeros"].rows[0]
    >>> zeros["dead_fraction"]
    1.0
    """
    if not isinstance(reports, Mapping):
        raise TypeError(
            f"compare_reports() takes a dict from a label to an "
            f"ActivationReport, e.g. {{'He': report_a, 'GAN': report_b}}, but "
            f"got {type(reports).__name__}."
        )
    if not reports:
        raise ValueError(
            "compare_reports() got an empty dict; pass at least one report, "
            "e.g. {'He': activation_report(model, x)}."
        )
    for label, report in reports.items():
        if not isinstance(report, ActivationReport):
            raise TypeError(
                f"reports[{label!r}] is a {type(report).__name__}, not an "
                f"ActivationReport. Make one with activation_report(model, x)."
            )
    (first_label, first), *others = reports.items()
    for label, report in others:
        if len(report.rows) != len(first.rows):
            raise ValueError(
                f"Report {label!r} has {len(report.rows)} layers but report "
                f"{first_label!r} has {len(first.rows)}. compare_reports() "
                f"matches layers by position, so the reports must come from "
                f"models of the same architecture. Compare models built by the "
                f"same code."
            )
        for i, (a, b) in enumerate(zip(first.rows, report.rows, strict=True)):
            if a["class"] != b["class"]:
                raise ValueError(
                    f"Layer {i} is a {a['class']} ({a['layer']!r}) in report "
                    f"{first_label!r} but a {b['class']} ({b['layer']!r}) in "
                    f"report {label!r}. compare_reports() matches layers by "
                    f"position, so the reports must come from models of the "
                    f"same architecture."
                )
    return ReportComparison(reports)


def print_before_after(before, after, what):
    """Prints two activation reports side by side, for `verbose=True`."""
    print(f"Activation statistics before and after {what}:")
    print(compare_reports({"before": before, "after": after}))
