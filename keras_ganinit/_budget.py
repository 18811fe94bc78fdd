"""Pretraining budgeted in steps: `GanInitModel.fit(x, steps=N)`.

However large or small the data, `steps=N` trains N generator and
discriminator updates. Small data is repeated (reshuffled on each pass)
inside one epoch, or inside the `epochs` the user asked for, so Keras's
per-epoch machinery (callbacks, logs, iterator set-up) runs a few times,
not hundreds; large data is cut to the N batches needed.
"""

import math
import numbers

import numpy as np

from keras_ganinit import _guard

DEFAULT_BATCH_SIZE = 32  # Keras's own default for arrays.


def _positive_int(value, name, meaning):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or int(value) < 1
    ):
        raise ValueError(
            f"{name} must be an integer >= 1 ({meaning}), but got {value!r}."
        )
    return int(value)


def by_steps(x, steps, kwargs):
    """`(x, kwargs)` for `keras.Model.fit` that train exactly `steps` steps.

    Args:
        x: what the user passed to `fit`: an array, a backend tensor or a
            `tf.data.Dataset` of batches.
        steps: the number of training steps.
        kwargs: the other `fit` keyword arguments; `epochs` (default 1)
            splits the steps into that many epochs.

    Returns:
        The input to train on and the keyword arguments to pass with it.
    """
    steps = _positive_int(steps, "steps", "the number of pretraining steps")
    kwargs = dict(kwargs)
    for taken in ("steps_per_epoch", "initial_epoch"):
        if kwargs.get(taken):
            raise ValueError(
                f"fit() got both steps={steps} and {taken}={kwargs[taken]!r}. "
                f"steps= sets the whole budget (with epochs= splitting it); "
                f"pass one or the other."
            )
    epochs = _positive_int(
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
    array = _guard.as_array(x)
    if array is None:
        raise TypeError(
            f"fit(steps=...) takes a NumPy array, a tensor or a "
            f"tf.data.Dataset, but got {type(x).__name__}. For a PyDataset "
            f"or a generator pass epochs= and steps_per_epoch= as to any "
            f"Keras model."
        )
    batch_size = kwargs.get("batch_size") or DEFAULT_BATCH_SIZE
    kwargs.update(batch_size=batch_size, shuffle=False)
    needed = per_epoch * epochs * batch_size
    passes = [np.random.permutation(len(array))]
    # Reshuffled on every pass; np.random follows keras.utils.set_random_seed.
    while sum(len(p) for p in passes) < needed:
        passes.append(np.random.permutation(len(array)))
    order = np.concatenate(passes)[:needed]
    return array[order], kwargs
