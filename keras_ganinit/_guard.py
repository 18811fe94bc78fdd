"""Keeping non-finite values out: checks on fit's input, and a training guard.

`check_samples` refuses NumPy or tensor input with NaN or inf before any
training (and input too small to train and calibrate on). `NonFiniteGuard`
is a callback that GanInitModel.fit puts first: it keeps a copy of every
weight and optimizer variable at the start of each epoch, reads the logged
losses after every step, and when one is NaN or inf it puts the copy back
and stops training, before any other callback (a ModelCheckpoint, say) sees
the broken weights.
"""

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


def check_samples(x, name, minimum):
    """Raises a ValueError if array input `x` is too small or not finite.

    Args:
        x: what the user passed; anything that is not an array or a tensor
            (a `tf.data.Dataset`, a `PyDataset`, a generator) is left to the
            training guard.
        name: how to call it in the message (`"x"`, `"validation_data"`).
        minimum: the fewest samples that make sense.
    """
    array = as_array(x)
    if array is None:
        return
    if array.ndim == 0 or len(array) < minimum:
        count = 0 if array.ndim == 0 else len(array)
        raise ValueError(
            f"{name} has {count} sample{'' if count == 1 else 's'} (shape "
            f"{array.shape}), but GanInitModel "
            f"needs at least {minimum}: "
            + (
                "calibration measures each unit's mean and standard deviation "
                "over the samples. Pass a few hundred samples (or, to train "
                "on fewer, GanInitModel(..., calibration=False))."
                if minimum > 1
                else "there is nothing to train on. Pass a non-empty array."
            )
        )
    message = non_finite_message(array, name)
    if message:
        raise ValueError(
            f"{message}. GanInitModel would learn NaN weights from them, so "
            f"nothing was trained. Drop or impute those samples first, e.g. "
            f"x = x[np.isfinite(x).reshape(len(x), -1).all(axis=1)]."
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


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops training at the first non-finite loss and restores the weights.

    The weights restored are those at the start of the epoch in which the
    loss went non-finite: every model weight and every optimizer variable.
    After `fit`, `tripped` says whether it happened and `message` says what.
    """

    def __init__(self):
        super().__init__()
        self.tripped = False
        self.message = None
        self._saved = None
        self._epoch = 0

    def _variables(self):
        model = self.model
        return list(model.weights) + list(model.optimizer.variables)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._saved = [
            np.array(keras.ops.convert_to_numpy(v)) for v in self._variables()
        ]

    def on_train_batch_end(self, batch, logs=None):
        bad = {
            key: float(value)
            for key, value in (logs or {}).items()
            if np.ndim(value) == 0 and not np.isfinite(float(value))
        }
        if not bad or self.tripped:
            return
        self.tripped = True
        self.restore()
        self.model.stop_training = True
        losses = ", ".join(f"{key}={value}" for key, value in sorted(bad.items()))
        # With steps_per_execution > 1, `batch` is the last step of the call,
        # which may run past the epoch's end.
        step = min(batch + 1, (self.params or {}).get("steps") or batch + 1)
        self.message = (
            f"GanInitModel.fit stopped in epoch {self._epoch + 1}, at or before "
            f"step {step}: the running losses became non-finite ({losses}). "
            f"The extractor, decoder, discriminator and both optimizers were "
            f"restored to their state at the start of epoch {self._epoch + 1}, "
            f"the last one known finite, and were not calibrated."
        )

    def restore(self):
        # On JAX the trainer holds the newest values outside the variables;
        # write those first, so they cannot overwrite what is restored here.
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:
            sync()
        for variable, value in zip(self._variables(), self._saved, strict=True):
            variable.assign(value)
