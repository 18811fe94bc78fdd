"""`keras-ganinit inspect`'s work: what a saved model holds.

Its weights (a table of statistics), the options it was trained with (read
from the file's JSON config, where no code runs), and whether its kernels
look calibrated: calibration makes all singular values of a kernel equal.
"""

import math
import os

import keras
import numpy as np

from keras_ganinit._src.graph.layers import DEPTHWISE, leaf_layers, scale_variable
from keras_ganinit._src.utils.tables import text_table
from keras_ganinit_cli.jobs import models
from keras_ganinit_cli.text import shorten

# Calibration sets every singular value of a kernel to the same number; a
# max/min ratio below this counts as equal (float32 rounding, not training).
EQUAL_SINGULAR_VALUES = 1.01
# Optimizer settings `inspect` shows, when saved and not None.
OPTIMIZER_KEYS = (
    "learning_rate",
    "beta_1",
    "beta_2",
    "epsilon",
    "momentum",
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
)


def run(args):
    """Runs `inspect` with the parsed `args`; returns the exit code."""
    config = models.saved_config(args.source)
    model = models.load_model(args.source, "SOURCE")
    is_gan, target = models.unwrap(model)
    size = os.path.getsize(args.source)
    print(
        f"{args.source}: {type(model).__name__} {model.name!r}, {size / 1024:.0f} KiB"
    )
    if is_gan:
        print(
            f"Extractor {target.name!r}: input "
            f"{models.input_shape(target, 'extractor')}"
            f", {target.count_params():,} parameters"
        )
    _print_options(config, is_gan)
    rows, ratios = _weight_rows(target)
    of = f" (of the extractor {target.name!r})" if is_gan else ""
    print(f"\nLayers with weights{of}:")
    if rows:
        header = ("layer", "class", "variable", "shape", "mean", "std", "min")
        header += ("max", "finite", "sv max/min")
        print(text_table(header, rows, left=3, indent="  ", rule=False))
    else:
        print("  none")
    print()
    print(_calibration_verdict(config.get("config", {}), is_gan, ratios))
    return 0


def _print_options(config, is_gan):
    options = config.get("config", {})
    if is_gan:
        print("\nOptions (GanInitModel config):")
        # The 0.1 options (preset, calibrate, ...) are shown when a file has them.
        legacy = (
            "preset",
            "calibrate",
            "input_noise",
            "tied_weights",
            "feature_matching",
        )
        for key in (
            "recipe",
            "adversarial_loss",
            "reconstruction_weight",
            "calibration",
            "calibration_target_std",
            "seed",
            *(key for key in ("fallback",) if key in options),
            *(key for key in legacy if key in options),
        ):
            value = options.get(key, "(not saved)")
            if key == "calibration_target_std" and value is None:
                value = "None (1, or 0.5 for tanh layers)"
            print(f"  {key}: {value}")
    compiled = config.get("compile_config") or {}
    optimizers = {
        key: value
        for key, value in compiled.items()
        if "optimizer" in key and isinstance(value, (dict, str))
    }
    if optimizers:
        print("Optimizers (compile config):")
        for key, value in optimizers.items():
            print(f"  {key}: {_optimizer_text(value)}")
    elif is_gan:
        print("  optimizers: not saved (the model was saved uncompiled)")


def _optimizer_text(config):
    if isinstance(config, str):
        return config
    inner = config.get("config", {})
    if "inner_optimizer" in inner:  # A LossScaleOptimizer.
        return f"LossScaleOptimizer({_optimizer_text(inner['inner_optimizer'])})"
    settings = []
    for key in OPTIMIZER_KEYS:
        value = inner.get(key)
        if isinstance(value, dict):  # A learning-rate schedule.
            value = value.get("class_name", "schedule")
        if value is not None:
            settings.append(
                f"{key}={value:g}" if _is_float(value) else f"{key}={value}"
            )
    return f"{config.get('class_name', '?')}({', '.join(settings)})"


def _is_float(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _weight_rows(model):
    """Table rows, one per variable, and each checked kernel's sv ratio."""
    rows, ratios = [], {}
    for layer in leaf_layers(model):
        if not layer.weights:
            continue
        kernel = None if isinstance(layer, DEPTHWISE) else scale_variable(layer)
        for variable in layer.weights:
            value = np.asarray(keras.ops.convert_to_numpy(variable), dtype="float64")
            finite = np.isfinite(value)
            bad = int(value.size - finite.sum())
            stats = [value.mean(), value.std(), value.min(), value.max()]
            ratio = "-"
            if kernel is not None and variable is kernel and bad == 0:
                ratio = _singular_value_ratio(value)
                ratios[layer.name] = ratio
            rows.append(
                [
                    layer.name,
                    type(layer).__name__,
                    variable.name,
                    str(tuple(value.shape)),
                    *([f"{s:.4g}" for s in stats] if value.size else ["-"] * 4),
                    "yes" if bad == 0 else f"NO ({bad} NaN/inf)",
                    ratio if isinstance(ratio, str) else _ratio_text(ratio),
                ]
            )
    return rows, ratios


def _ratio_text(ratio):
    return f"{ratio:.3f}" if ratio < 1000 else f"{ratio:.3g}"


def _singular_value_ratio(kernel):
    """max/min singular value of a kernel as a (fan_in, fan_out) matrix."""
    matrix = kernel.reshape(-1, kernel.shape[-1])
    values = np.linalg.svd(matrix, compute_uv=False)
    return float(values.max() / values.min()) if values.min() > 0 else math.inf


def _calibration_verdict(options, is_gan, ratios):
    """Lines on whether `ratios` (kernel name -> sv ratio) show calibration."""
    if is_gan:
        said = (
            f"calibration={options.get('calibration', options.get('calibrate'))} "
            f"(when True, fit calibrates "
            f"the extractor at its end)"
        )
    else:
        said = "not a GanInitModel: no calibration option saved"
    lines = ["Calibration:", f"  config: {said}"]
    if not ratios:
        return "\n".join([*lines, "  kernels: none to check"])
    equal = [name for name, ratio in ratios.items() if ratio <= EQUAL_SINGULAR_VALUES]
    lines.append(
        f"  kernels: {len(equal)} of {len(ratios)} have all singular values "
        f"equal (sv max/min <= {EQUAL_SINGULAR_VALUES})"
    )
    if len(equal) == len(ratios):
        verdict = (
            "consistent with calibration. Calibration makes them equal and "
            "training does not, but an Orthogonal initializer does too: this "
            "is evidence, not proof."
        )
    elif equal:
        unequal = [name for name in ratios if name not in equal]
        verdict = (
            f"partly consistent: calibration makes every kernel's equal, and "
            f"these are not: {shorten(unequal)} (changed after calibration?)."
        )
    else:
        verdict = (
            "not calibrated, or changed since: calibration would have made them equal."
        )
    return "\n".join([*lines, f"  verdict: {verdict}"])
