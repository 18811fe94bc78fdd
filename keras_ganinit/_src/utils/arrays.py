"""Arrays from what users pass, and where they hold NaN or inf."""

import warnings

import keras
import numpy as np


def as_array(x):
    """`x` as a NumPy array if it is an array or a backend tensor, else None."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype") and not hasattr(x, "element_spec"):
        try:
            return np.asarray(keras.ops.convert_to_numpy(x))
        except Exception:
            return None
    return None


def non_finite_message(array, what):
    """A sentence on where `array` holds NaN or inf, or None if it is finite."""
    if not np.issubdtype(array.dtype, np.inexact):
        return None
    finite = np.isfinite(array)
    if finite.all():
        return None
    nan = int(np.isnan(array).sum())
    inf = int((~finite).sum()) - nan
    rows = np.flatnonzero(~finite.reshape(len(array), -1).all(axis=1))
    shown = ", ".join(str(i) for i in rows[:5]) + (", ..." if len(rows) > 5 else "")
    return (
        f"{what} holds {nan + inf} non-finite values ({nan} NaN, {inf} inf) in "
        f"{len(rows)} of its {len(array)} samples (indices {shown})"
    )


def check_variables_finite(variables, what, advice=None):
    """Raises a ValueError naming the variables of `what` that hold NaN or inf."""
    bad = [
        variable.path
        for variable in variables
        if not np.isfinite(keras.ops.convert_to_numpy(variable)).all()
    ]
    if bad:
        raise ValueError(
            f"{what} has non-finite values (NaN or inf) in {len(bad)} "
            f"variables: {', '.join(bad[:5])}{', ...' if len(bad) > 5 else ''}. "
            f"Nothing was changed. "
            + (
                advice
                or "Retrain it (with lower learning rates if the losses "
                "diverged), or restore its weights from a good checkpoint."
            )
        )


def check_samples(x, name, minimum, who="GanInitModel"):
    """Raises a ValueError if array input `x` is too small or not finite.

    Args:
        x: what the user passed; anything that is not an array or a tensor
            (a `tf.data.Dataset`, a `PyDataset`, a generator) is left to the
            training guard.
        name: how to call it in the message (`"x"`, `"validation_data"`).
        minimum: the fewest samples that make sense.
        who: what needs them, for the message (`"GanInitModel"`,
            `"calibrate()"`).
    """
    array = as_array(x)
    if array is None:
        return
    if array.ndim == 0 or len(array) < minimum:
        count = 0 if array.ndim == 0 else len(array)
        fewer = (
            " (or, to train on fewer, GanInitModel(..., calibration=False))"
            if who == "GanInitModel"
            else ""
        )
        raise ValueError(
            f"{name} has {count} sample{'' if count == 1 else 's'} (shape "
            f"{array.shape}), but {who} needs at least {minimum}: "
            + (
                f"calibration measures each unit's mean and standard deviation "
                f"over the samples. Pass a few hundred samples{fewer}."
                if minimum > 1
                else "there is nothing to train on. Pass a non-empty array."
            )
        )
    message = non_finite_message(array, name)
    if message:
        why = (
            f"{who} would learn NaN weights from them, so nothing was trained"
            if who == "GanInitModel"
            else f"{who} measures the model on them and would blame the weights "
            f"for what comes from the data, so nothing changed"
        )
        raise ValueError(
            f"{message}. {why}. "
            f"Drop or impute those samples first, e.g. "
            f"x = x[np.isfinite(x).reshape(len(x), -1).all(axis=1)]."
        )


# Values beyond this look like raw pixels or unscaled measurements.
UNSCALED = 100.0


def warn_if_unscaled(x, who, stacklevel=3):
    """Warns when array input `x` looks unscaled: integers, or |values| > 100.

    Raw 0-255 images and unscaled tables train and calibrate badly; Keras
    takes them without a word. Anything that is not an array or a tensor is
    left alone.
    """
    array = as_array(x)
    if array is None or array.size == 0:
        return
    integer = np.issubdtype(array.dtype, np.integer) or array.dtype == bool
    largest = float(np.nanmax(np.abs(array))) if not integer else None
    if integer or (largest is not None and largest > UNSCALED):
        seen = (
            f"{array.dtype} values"
            if integer
            else f"values up to {largest:.4g} in magnitude"
        )
        warnings.warn(
            f"{who} got {seen}: the data look unscaled. Networks train and "
            f"calibrate best on inputs of about unit range: divide images by "
            f"255 (x = x.astype('float32') / 255), or standardize features "
            f"((x - x.mean(0)) / x.std(0)), or start the model with a "
            f"keras.layers.Rescaling or Normalization layer.",
            UserWarning,
            stacklevel=stacklevel,
        )
