"""Pretraining budgeted in steps: `GanInitModel.fit(x, steps=N)`.

However large or small the data, `steps=N` trains N generator and
discriminator updates. Small data is repeated (reshuffled on each pass)
inside one epoch, or inside the `epochs` the user asked for, so Keras's
per-epoch machinery (callbacks, logs, iterator set-up) runs a few times,
not hundreds; large data is cut to the N batches needed, without a copy.
"""

import math

import keras
import numpy as np

from keras_ganinit._src.utils.arrays import as_array
from keras_ganinit._src.utils.checks import positive_int

DEFAULT_BATCH_SIZE = 32  # Keras's own default for arrays.
# Repeated small data is gathered into one array (fastest: Keras's array
# adapter) up to this size; beyond it, batches are gathered one at a time.
MAX_COPY_BYTES = 256 * 2**20


class _RepeatedBatches(keras.utils.PyDataset):
    """`array[order]` in batches, gathered one batch at a time (no big copy)."""

    def __init__(self, array, order, batch_size):
        super().__init__()
        self.array, self.order, self.batch_size = array, order, batch_size

    def __len__(self):
        return len(self.order) // self.batch_size

    def __getitem__(self, index):
        start = index * self.batch_size
        return self.array[np.sort(self.order[start : start + self.batch_size])]


def unbudgeted(x, kwargs):
    """Whether `fit(x, **kwargs)` says nothing of how long to train.

    Then `fit` runs DEFAULT_STEPS steps rather than Keras's one epoch, for
    the inputs `by_steps` takes (arrays, tensors, `tf.data.Dataset`s).
    """
    said = ("epochs", "steps_per_epoch", "initial_epoch")
    if any(kwargs.get(name) is not None for name in said):
        return False
    is_dataset = hasattr(x, "element_spec") and hasattr(x, "repeat")
    return is_dataset or as_array(x) is not None


def by_steps(x, steps, kwargs, rng=None):
    """`(x, kwargs)` for `keras.Model.fit` that train exactly `steps` steps.

    Args:
        x: what the user passed to `fit`: an array, a backend tensor or a
            `tf.data.Dataset` of batches.
        steps: the number of training steps.
        kwargs: the other `fit` keyword arguments; `epochs` (default 1)
            splits the steps into that many epochs.
        rng: a `np.random.Generator` that orders repeated data; None uses
            NumPy's global state, which `keras.utils.set_random_seed` seeds.

    Returns:
        The input to train on and the keyword arguments to pass with it.
    """
    steps = positive_int(steps, "steps", "the number of pretraining steps")
    kwargs = dict(kwargs)
    for taken in ("steps_per_epoch", "initial_epoch"):
        if kwargs.get(taken):
            raise ValueError(
                f"fit() got both steps={steps} and {taken}={kwargs[taken]!r}. "
                f"steps= sets the whole budget (with epochs= splitting it); "
                f"pass one or the other."
            )
    epochs = positive_int(
        kwargs.get("epochs", 1), "epochs", "how many epochs share the steps"
    )
    if epochs > steps:
        raise ValueError(
            f"fit() got steps={steps} and epochs={epochs}: an epoch needs at "
            f"least one step. Pass epochs <= steps."
        )
    per_epoch = math.ceil(steps / epochs)
    kwargs.update(epochs=epochs, steps_per_epoch=per_epoch)
    if hasattr(x, "element_spec") and hasattr(x, "repeat"):  # tf.data.Dataset
        return x.repeat(), kwargs
    array = as_array(x)
    if array is None:
        raise TypeError(
            f"fit(steps=...) takes a NumPy array, a tensor or a "
            f"tf.data.Dataset, but got {type(x).__name__}. For a PyDataset "
            f"or a generator pass epochs= and steps_per_epoch= as to any "
            f"Keras model."
        )
    batch_size = kwargs.get("batch_size") or DEFAULT_BATCH_SIZE
    needed = per_epoch * epochs * batch_size
    if needed <= len(array):
        # Enough data for every step: Keras cuts it (its iterator runs on
        # across epochs when steps_per_epoch is given), shuffled as asked.
        kwargs.update(batch_size=batch_size)
        return x, kwargs
    # Reshuffled on every pass, unless fit was given shuffle=False.
    shuffle = kwargs.get("shuffle", True)
    rng = np.random if rng is None else rng
    passes = []
    while sum(len(p) for p in passes) < needed:
        indices = np.arange(len(array))
        passes.append(rng.permutation(indices) if shuffle else indices)
    order = np.concatenate(passes)[:needed]
    kwargs.update(shuffle=False)
    if needed * (array.nbytes // max(len(array), 1)) <= MAX_COPY_BYTES:
        kwargs.update(batch_size=batch_size)
        return array[order], kwargs
    kwargs.pop("batch_size", None)  # A PyDataset makes its own batches.
    return _RepeatedBatches(array, order, batch_size), kwargs
