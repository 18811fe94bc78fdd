"""One supervised loop for every study: a classifier, trained and tested.

`classifier(extractor, classes, seed)` puts a softmax head on an
initialized extractor: Glorot-uniform from `seed`, zero bias, the same for
every method. `train` fits it in pieces (one per checkpoint: every epoch, or
given step counts), each piece a shuffled stream of batches in an order
fixed by `seed`, and tests after each piece. A run diverged when a loss is
not finite or exceeds 100 times the first piece's.

Seconds are wall seconds of `fit` (tracing included, as a user pays it),
summed up to each checkpoint; testing is not counted.
"""

import dataclasses
import math
import time

import keras
import numpy as np

DIVERGED = 100.0  # a loss this many times the first one: diverged


@dataclasses.dataclass
class Curve:
    """Test accuracy, training loss and fit seconds at each checkpoint."""

    checkpoints: list  # in steps
    accuracy: list
    loss: list
    seconds: list
    diverged: bool

    def record(self):
        return dataclasses.asdict(self)


def classifier(extractor, classes, seed):
    """`extractor` followed by a softmax head, Glorot-uniform from `seed`."""
    head = keras.layers.Dense(
        classes,
        activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        name="head",
    )
    inputs = keras.Input(extractor.inputs[0].shape[1:])
    return keras.Model(inputs, head(extractor(inputs)), name="classifier")


def accuracy(model, x, y):
    """The fraction of `x` that `model` classifies as `y` (NaN outputs: wrong)."""
    scores = model.predict(x, batch_size=1024, verbose=0)
    return float(np.mean(np.nan_to_num(scores, nan=-1.0).argmax(axis=1) == y))


def optimizer(name, learning_rate=None, momentum=0.0):
    """A fresh optimizer: "adam" (1e-3 by default) or "sgd" (0.05 by default)."""
    if name == "adam":
        return keras.optimizers.Adam(learning_rate or 1e-3)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate or 0.05, momentum=momentum)
    raise ValueError(f"optimizer {name!r}: expected 'adam' or 'sgd'")


def pieces(n, batch_size, seed, epochs=None, checkpoints=None):
    """The sample indices of each piece: one epoch each, or up to each step
    count in `checkpoints`, batches drawn from consecutive shuffles."""
    rng = np.random.default_rng([seed, n, 7])
    if epochs:
        return [rng.permutation(n) for _ in range(epochs)], [
            (e + 1) * math.ceil(n / batch_size) for e in range(epochs)
        ]
    shuffles = -(-checkpoints[-1] * batch_size // n)
    order = np.concatenate([rng.permutation(n) for _ in range(shuffles)])
    ends = list(checkpoints)
    starts = [0, *ends[:-1]]
    parts = [
        order[a * batch_size : b * batch_size]
        for a, b in zip(starts, ends, strict=True)
    ]
    return parts, ends


def train(
    model, split, optimizer, *, epochs=None, checkpoints=None, batch_size=64, seed=0
):
    """Compiles `model` with `optimizer` (None: as compiled), fits it on
    `split`, tests it: a Curve.

    Give `epochs` (a checkpoint after each) or `checkpoints` (step counts).
    The batch is min(batch_size, training samples).
    """
    if (epochs is None) == (checkpoints is None):
        raise ValueError("train: give exactly one of epochs and checkpoints")
    if optimizer is not None:
        model.compile(optimizer, "sparse_categorical_crossentropy")
    x, y = split.x_train, split.y_train
    batch = min(batch_size, len(x))
    parts, steps = pieces(len(x), batch, seed, epochs, checkpoints)
    curve = Curve(steps, [], [], [], False)
    fitting = 0.0
    for rows in parts:
        start = time.perf_counter()
        history = model.fit(
            x[rows], y[rows], batch_size=batch, shuffle=False, verbose=0
        )
        fitting += time.perf_counter() - start
        loss = float(history.history["loss"][-1])
        curve.loss.append(loss)
        curve.seconds.append(fitting)
        curve.accuracy.append(accuracy(model, split.x_test, split.y_test))
        if not math.isfinite(loss) or loss > DIVERGED * curve.loss[0]:
            curve.diverged = True
    return curve


class Reused:
    """One compiled classifier for many runs of one cell.

    Each run sets the extractor's weights and the optimizer's first state
    again, so Keras traces the train function once per cell, not once per
    run, and the seconds of runs compare.
    """

    def __init__(self, extractor, classes, optimizer):
        self.extractor = extractor
        self.model = classifier(extractor, classes, seed=0)
        self.model.compile(optimizer, "sparse_categorical_crossentropy")
        optimizer.build(self.model.trainable_variables)
        self.fresh = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]

    def train(self, weights, split, seed, **options):
        """Trains from the extractor `weights` and a fresh head: a Curve."""
        self.extractor.set_weights(weights)
        head = self.model.get_layer("head")
        kernel = keras.initializers.GlorotUniform(seed=seed)(head.kernel.shape)
        head.set_weights(
            [keras.ops.convert_to_numpy(kernel), np.zeros(head.bias.shape)]
        )
        for variable, value in zip(
            self.model.optimizer.variables, self.fresh, strict=True
        ):
            variable.assign(value)
        return train(self.model, split, None, seed=seed, **options)
