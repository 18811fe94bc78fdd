"""CalibrationReport: what `calibrate` did to each layer, before and after."""

from keras_ganinit._src.utils.tables import text_table

COLUMNS = (
    ("layer", "layer"),
    ("class", "class"),
    ("activation", "activation"),
    ("kernel", "start"),
    ("target_std", "target"),
    ("std_before", "std before"),
    ("std_after", "std after"),
    ("mean_before", "mean before"),
    ("mean_after", "mean after"),
)


class CalibrationReport:
    """Each calibrated layer's output spread on the batch, before and after.

    Made by `keras_ganinit.calibrate`. `rows` holds one dict per layer it
    calibrates, in the order the layers ran, with the keys `layer`, `class`,
    `activation`, `kernel` (the start the layer got: "orthogonal", "kept
    (depthwise)", one of the looks-linear forms, a recurrent, attention or
    embedding layer's rule, with ", residual branch x0.25" where its output
    was scaled to join a residual stream; None for a layer left as it was),
    `target_std` (the std it was given; None for a layer left as it was),
    `std_before`, `std_after` (the layer's pre-activation spread over the
    batch, as `activation_report` measures it: the root mean square over
    units of each unit's std) and `mean_before`, `mean_after` (the mean of
    its pre-activation). `str(report)` prints them as a table.

    `left` names every other layer with weights that calibrate left exactly
    as it was, and why (for example a layer normalization, which sets its
    own output scale, or a recurrent layer with a custom cell): one dict
    per layer with the keys `layer`, `class` and `why`.
    `str(report)` lists them under the table. Nothing is skipped silently.

    Args:
        rows: the list of row dicts.
        model_name: the name of the model calibrated.
        samples: how many samples the batch had.
        seconds: how long calibration took, measurements included.
        left: the layers with weights left as they were.
    """

    def __init__(
        self,
        rows: list,
        model_name: str = "model",
        samples: int | None = None,
        seconds: float | None = None,
        left: list | None = None,
    ) -> None:
        self.rows = list(rows)
        self.model_name = model_name
        self.samples = samples
        self.seconds = seconds
        self.left = list(left or [])

    @property
    def layers(self) -> list:
        """The names of the layers calibrated (not those left as they were)."""
        return [r["layer"] for r in self.rows if r["target_std"] is not None]

    def __repr__(self):
        return (
            f"<CalibrationReport of {self.model_name!r} on {self.samples} "
            f"samples: {_layers(len(self.layers))} calibrated>"
        )

    def __str__(self):
        # The start column only where calibrate did more than orthogonalize.
        columns = [
            (key, name)
            for key, name in COLUMNS
            if key != "kernel"
            or any(r.get("kernel") not in (None, "orthogonal") for r in self.rows)
        ]
        left = 4 if len(columns) == len(COLUMNS) else 3  # the text columns
        lines = [
            [
                "left as it was" if key == "target_std" and r[key] is None else r[key]
                for key, _ in columns
            ]
            for r in self.rows
        ]
        took = f" in {self.seconds:.2f} s" if self.seconds is not None else ""
        return (
            f"calibrate() changed {_layers(len(self.layers))} of "
            f"{self.model_name!r} on {self.samples} samples{took}. Each "
            f"layer's output before its activation, std and mean, before and "
            f"after calibrate():\n"
            f"{text_table([name for _, name in columns], lines, left=left)}"
            + "".join(
                f"\nLeft as it was: {r['layer']} ({r['class']}): {r['why']}."
                for r in self.left
            )
        )


def _layers(count):
    return f"{count} layer{'' if count == 1 else 's'}"
