"""Keeping non-finite values out of training: the guard callback.

NumPy or tensor input with NaN or inf is refused before any training
(`utils.arrays.check_samples`). `NonFiniteGuard` is a callback that
GanInitModel.fit puts first: it keeps a copy of every weight and optimizer
variable at the start of each epoch, reads the logged losses after every
step, and when one is NaN or inf it puts the copy back and stops training,
before any other callback (a ModelCheckpoint, say) sees the broken weights.
"""

import keras
import numpy as np


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
