"""Linear probe: how well a softmax layer on an extractor's frozen features classifies.

`linear_probe(extractor, x, y)` computes the extractor's features once, trains
a multinomial logistic regression (one Dense layer, softmax cross-entropy, L2)
on them with Keras, and returns a `LinearProbeResult`. The extractor is only
run, never trained.
"""

import dataclasses
import functools
from typing import Any

import keras
import numpy as np

from keras_ganinit._src.utils.arrays import as_array, non_finite_message
from keras_ganinit._src.utils.checks import (
    Seed,
    check_seed,
    check_verbose,
    non_negative,
    positive_int,
    positive_number,
    seed_value,
)
from keras_ganinit._src.utils.data import check_input_shape, take_samples

# A feature whose std is below this fraction of the largest feature std is
# treated as constant: it is centred but not blown up to unit variance.
STD_FLOOR = 1e-6


@dataclasses.dataclass(frozen=True)
class LinearProbeResult:
    """What `linear_probe` measured.

    Attributes:
        accuracy: the validation accuracy when `validation_data` was given,
            else the accuracy on the training samples.
        train_accuracy: the accuracy on the training samples.
        validation: whether `accuracy` is on held-out validation samples.
        chance: the accuracy of always answering the most frequent training
            class (the lowest id on ties), on the samples `accuracy` is
            measured on.
        n_train: the number of training samples.
        n_validation: the number of validation samples (0 without them).
        n_classes: the number of classes (largest label + 1).
        feature_dim: the number of features the probe saw.
    """

    accuracy: float
    train_accuracy: float
    validation: bool
    chance: float
    n_train: int
    n_validation: int
    n_classes: int
    feature_dim: int

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict of plain Python values."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        features = f"{self.feature_dim} frozen feature{_s(self.feature_dim)}"
        classes = f"{self.n_classes} classes"
        if self.validation:
            return (
                f"Linear probe on {features}: validation accuracy "
                f"{self.accuracy:.3f} (train {self.train_accuracy:.3f}, chance "
                f"{self.chance:.3f}), {classes}, {self.n_train} training and "
                f"{self.n_validation} validation samples."
            )
        return (
            f"Linear probe on {features}: training accuracy {self.accuracy:.3f} "
            f"(chance {self.chance:.3f}), {classes}, {self.n_train} training "
            f"samples.\nMeasured on the training samples (no validation_data), "
            f"so it overstates held-out accuracy; pass validation_data=(x_val, "
            f"y_val) to measure that."
        )


def linear_probe(
    extractor: keras.Model,
    x: Any,
    y: Any = None,
    validation_data: Any = None,
    *,
    epochs: int = 100,
    batch_size: int = 256,
    learning_rate: float = 0.01,
    l2: float = 1e-4,
    standardize: bool = True,
    seed: Seed = None,
    verbose: int | str = 0,
) -> LinearProbeResult:
    """Trains a softmax layer on an extractor's frozen features: what did it learn?

    Run it before fine-tuning to see whether pretraining gave the extractor
    features that separate the classes: a pretrained extractor should beat
    the same architecture at its random initialization, and both should
    beat `result.chance`.

    The extractor's features are computed once, `extractor.predict(x)` (in
    inference mode: Dropout off, BatchNormalization on its moving
    statistics), and flattened to one row per sample (several outputs are
    concatenated). With `standardize=True` each feature is centred and
    divided by its standard deviation over the training samples (the
    validation features with the same numbers), so the result does not
    depend on the features' scale: a calibrated and an uncalibrated
    extractor that differ only by a scale per unit score the same. Features
    constant over the training samples become 0.

    The probe is `keras.Sequential([keras.Input((d,)), keras.layers.Dense(
    n_classes, kernel_regularizer=keras.regularizers.L2(l2))])`, trained with
    Adam on sparse categorical cross-entropy from logits: multinomial logistic
    regression. It starts from zero weights, as logistic regression usually
    does, so the only randomness is the order of the mini-batches, reshuffled
    on every pass; `seed` fixes it. The passes run as one Keras epoch of
    `epochs` x `ceil(n / batch_size)` steps (Keras's cost per epoch would
    dominate so small a model).

    The extractor is only run, never trained or compiled: its weights and
    `trainable` flags are left as they were.

    Args:
        extractor: a built `keras.Model` (a feature extractor).
        x: its training inputs, without NaN or inf: a NumPy array or a
            tensor (a list of them for a model with several inputs), or a
            batched `tf.data.Dataset`, `keras.utils.PyDataset` or generator
            of `(x, y)` batches (then leave `y` out; every batch is read).
        y: their labels: integer class ids 0..K-1, 1-D (or shape (n, 1)), or
            one-hot rows of shape (n, K). None when `x` carries them.
        validation_data: optional held-out `(x_val, y_val)`, or a dataset of
            `(x, y)` batches, in the same forms. With it, `accuracy` is the
            validation accuracy.
        epochs: passes over the training features.
        batch_size: samples per Adam step (and per `predict` batch); a
            `batch_size` of at least `len(x)` trains full-batch.
        learning_rate: Adam's learning rate. 0.01 suits standardized
            features.
        l2: the L2 penalty on the probe's kernel, `l2 * sum(kernel ** 2)`
            added to the mean loss; 0 for none.
        standardize: whether to standardize the features (see above). Turn
            it off only to probe the raw scale on purpose.
        seed: an integer for a reproducible batch order, None, or a
            `keras.random.SeedGenerator` (one draw from it).
        verbose: 0 silent, 1 progress bar, 2 one line, for `predict` and
            `fit`.

    Returns:
        A `LinearProbeResult`: `accuracy`, `train_accuracy`, `validation`,
        `chance`, `n_train`, `n_validation`, `n_classes`, `feature_dim`,
        `as_dict()`, and a one-line report from `str()`.

    Example:

    >>> import keras, numpy as np
    >>> from keras_ganinit import linear_probe
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, size=300)
    >>> x = (rng.normal(size=(300, 8)) + 4.0 * np.eye(3, 8)[y]).astype("float32")
    >>> extractor = keras.Sequential([keras.Input((8,)),
    ...     keras.layers.Dense(16, activation="relu")])
    >>> result = linear_probe(extractor, x[:200], y[:200],
    ...     validation_data=(x[200:], y[200:]), epochs=20, seed=0)
    >>> result.accuracy > 0.8, result.n_classes, result.feature_dim
    (True, 3, 16)
    >>> print(result)  # doctest: +ELLIPSIS
    Linear probe on 16 frozen features: validation accuracy ... 3 classes, ...
    """
    if not isinstance(extractor, keras.Model) or not extractor.built:
        got = (
            f"the model {extractor.name!r}, which is not built yet. Build it "
            f"first (give it a keras.Input, or call it on a batch)"
            if isinstance(extractor, keras.Model)
            else f"{type(extractor).__name__}. Wrap a layer in a keras.Sequential "
            f"that starts with keras.Input(shape)"
        )
        raise TypeError(
            f"linear_probe() needs a built keras.Model as the extractor (e.g. "
            f"keras.Sequential([keras.Input(shape), ...])), but got {got}."
        )
    epochs = positive_int(epochs, "epochs", "passes over the training features")
    batch_size = positive_int(batch_size, "batch_size", "samples per step")
    learning_rate = positive_number(learning_rate, "learning_rate")
    l2 = non_negative(l2, "l2", "the L2 penalty on the probe's kernel; 0 for none")
    seed = seed_value(check_seed(seed))
    verbose = check_verbose(verbose, "linear_probe()")

    x, y = _samples(extractor, x, y, "x", "y")
    validating = validation_data is not None
    if validating:
        x_val, y_val = _validation(extractor, validation_data)
    classes = np.unique(y[0])
    if len(classes) < 2:
        raise ValueError(
            f"y holds {len(classes)} class{'' if len(classes) == 1 else 'es'} "
            f"({', '.join(str(c) for c in classes) or 'no samples'}), but a "
            f"probe needs at least 2 to tell apart. Pass labelled samples of "
            f"two or more classes."
        )
    n_classes = max(y[1], int(classes[-1]) + 1)
    if validating:
        n_classes = max(n_classes, y_val[1], int(y_val[0].max(initial=0)) + 1)

    train = _features(extractor, x, "x", batch_size, verbose)
    if validating:
        held_out = _features(extractor, x_val, "x_val", batch_size, verbose)
    if standardize:
        mean = train.mean(axis=0)
        std = train.std(axis=0)
        largest = std.max(initial=0.0)
        std = np.maximum(std, STD_FLOOR * largest if largest > 0 else 1.0)
        train = (train - mean) / std
        if validating:
            held_out = (held_out - mean) / std

    kernel, bias = _train(
        train.astype("float32"),
        y[0],
        n_classes,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        l2=l2,
        seed=seed,
        verbose=verbose,
    )
    majority = int(np.bincount(y[0], minlength=n_classes).argmax())
    labels = y_val[0] if validating else y[0]
    train_accuracy = _accuracy(train, y[0], kernel, bias)
    return LinearProbeResult(
        accuracy=_accuracy(held_out, labels, kernel, bias)
        if validating
        else train_accuracy,
        train_accuracy=train_accuracy,
        validation=validating,
        chance=float(np.mean(labels == majority)),
        n_train=len(y[0]),
        n_validation=len(y_val[0]) if validating else 0,
        n_classes=int(n_classes),
        feature_dim=int(train.shape[1]),
    )


class _Passes(keras.utils.PyDataset):
    """`epochs` passes over (features, labels) in mini-batches, as one epoch.

    Pass p visits the samples in the order `default_rng([base, p])` draws,
    so a batch depends only on its index and `seed`.
    """

    def __init__(self, features, labels, batch_size, epochs, seed):
        super().__init__()
        self.features, self.labels = features, labels
        self.batch_size, self.epochs = batch_size, epochs
        self.steps = -(-len(labels) // batch_size)
        base = int(np.random.default_rng(seed).integers(2**32))
        self.order = functools.lru_cache(maxsize=2)(
            lambda p: np.random.default_rng([base, p]).permutation(len(labels))
        )

    def __len__(self):
        return self.steps * self.epochs

    def __getitem__(self, index):
        p, step = divmod(index, self.steps)
        chosen = self.order(p)[step * self.batch_size : (step + 1) * self.batch_size]
        return self.features[chosen], self.labels[chosen]


def _train(
    features, labels, n_classes, *, epochs, batch_size, learning_rate, l2, seed, verbose
):
    """The probe's (kernel, bias) after training, as NumPy arrays."""
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    probe = keras.Sequential(
        [
            keras.Input((features.shape[1],)),
            keras.layers.Dense(
                n_classes, kernel_initializer="zeros", kernel_regularizer=regularizer
            ),
        ],
        name="linear_probe",
    )
    probe.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    passes = _Passes(features, labels, batch_size, epochs, seed)
    probe.fit(passes, epochs=1, shuffle=False, verbose=verbose)
    kernel, bias = probe.get_weights()
    return kernel.astype("float64"), bias.astype("float64")


def _accuracy(features, labels, kernel, bias):
    predicted = np.argmax(features @ kernel + bias, axis=1)
    return float(np.mean(predicted == labels))


def _features(extractor, x, name, batch_size, verbose):
    """The extractor's outputs on `x`, flattened to (samples, features), float64."""
    outputs = extractor.predict(x, batch_size=batch_size, verbose=verbose)
    outputs = [np.asarray(o) for o in keras.tree.flatten(outputs)]
    features = np.concatenate(
        [o.reshape(len(o), -1).astype("float64") for o in outputs], axis=1
    )
    message = non_finite_message(features, f"The extractor's output on {name}")
    if message:
        raise ValueError(
            f"{message}, although {name} is finite: the extractor itself "
            f"produces them, e.g. its weights hold NaN or inf after a diverged "
            f"training, or its activations overflow. Find the layer with "
            f"keras_ganinit.activation_report(extractor, {name}[:256]), then "
            f"reload or re-initialize its weights."
        )
    return features


def _validation(extractor, validation_data):
    """(x_val, (class ids, one-hot width)) from a checked `validation_data`."""
    if (
        not isinstance(validation_data, (tuple, list))
        and as_array(validation_data) is None
    ):
        try:  # a dataset of (x, y) batches
            return _samples(extractor, validation_data, None, "x_val", "y_val")
        except TypeError:
            pass
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        size = (
            f" of length {len(validation_data)}"
            if isinstance(validation_data, (tuple, list))
            else ""
        )
        raise ValueError(
            f"validation_data must be a pair (x_val, y_val) of held-out inputs "
            f"and their labels, but got {type(validation_data).__name__}{size}. "
            f"Pass validation_data=(x_val, y_val) (sample weights are not "
            f"supported), or leave it out to measure on the training samples."
        )
    x_val, y_val = _samples(extractor, *validation_data, "x_val", "y_val")
    if not len(y_val[0]):
        raise ValueError(
            "validation_data holds no samples. Pass a non-empty (x_val, y_val), "
            "or leave validation_data out."
        )
    return x_val, y_val


def _samples(extractor, x, y, x_name, y_name):
    """(`x` as NumPy arrays, (class ids, one-hot width)), checked and matched."""
    if y is None:
        x, y = take_samples(
            x, None, "linear_probe()", model=extractor, name=x_name, labels=True
        )
        if y is None:
            raise ValueError(
                f"{y_name} is None, and {x_name} carries no labels. Pass the "
                f"labels as {y_name}=, or batches of ({x_name}, {y_name})."
            )
    leaves = keras.tree.flatten(x)
    arrays = [as_array(leaf) for leaf in leaves]
    if not arrays or any(a is None or a.ndim == 0 for a in arrays):
        raise TypeError(
            f"{x_name} must be a NumPy array or a tensor of samples (a list of "
            f"them for an extractor with several inputs), but got "
            f"{type(x).__name__}. The probe computes the features once and "
            f"needs the labels beside them: pass arrays x and y, or a batched "
            f"dataset or generator of (x, y) batches with y left out."
        )
    inputs = keras.tree.flatten(extractor.inputs)
    if len(inputs) != len(arrays):
        raise ValueError(
            f"The extractor {extractor.name!r} takes {len(inputs)} inputs, but "
            f"{x_name} holds {len(arrays)} arrays. Pass one array per input."
        )
    for array, spec in zip(arrays, inputs, strict=True):
        check_input_shape(array, extractor, x_name, spec)
    for array in arrays:
        message = non_finite_message(array, x_name)
        if message:
            raise ValueError(
                f"{message}. The probe needs finite inputs. Drop or impute "
                f"those samples first, e.g. keep = np.isfinite({x_name})."
                f"reshape(len({x_name}), -1).all(axis=1); {x_name}, {y_name} = "
                f"{x_name}[keep], {y_name}[keep]."
            )
    labels = _labels(y, y_name)
    if len({len(a) for a in arrays}) > 1:
        raise ValueError(
            f"The {len(arrays)} arrays of {x_name} hold "
            f"{', '.join(str(len(a)) for a in arrays)} samples; every input "
            f"needs one row per sample. Pass arrays of the same length."
        )
    if len(arrays[0]) != len(labels[0]):
        raise ValueError(
            f"{x_name} has {len(arrays[0])} samples but {y_name} has "
            f"{len(labels[0])} labels; they must match, one label per sample. "
            f"Pass the labels of exactly the samples in {x_name}."
        )
    x = keras.tree.pack_sequence_as(x, arrays) if len(arrays) > 1 else arrays[0]
    return x, labels


def _labels(y, name):
    """(class ids as int64, one-hot width or 0) from `y`, or a ValueError."""
    array = as_array(y)
    if array is None:
        array = np.asarray(y) if isinstance(y, (list, tuple)) else None
    if array is None:
        raise TypeError(
            f"{name} must be a NumPy array or a tensor of class ids, but got "
            f"{type(y).__name__}."
        )
    expected = (
        "integer class ids 0..K-1 (1-D, or shape (n, 1)) or one-hot rows of "
        "shape (n, K)"
    )
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    width = 0
    if array.ndim == 2:
        one_hot = (
            np.issubdtype(array.dtype, np.number) or array.dtype == bool
        ) and np.isin(array, (0, 1)).all()
        sums = array.sum(axis=1) if one_hot else None
        if not one_hot or not (sums == 1).all():
            bad = (
                "values other than 0 and 1"
                if not one_hot
                else "rows without exactly one 1 (e.g. row "
                f"{np.flatnonzero(sums != 1)[0]})"
            )
            raise ValueError(
                f"{name} is 2-D with shape {array.shape} and holds {bad}, but "
                f"must be {expected}. For soft or smoothed labels pass "
                f"{name}.argmax(axis=1)."
            )
        width = array.shape[1]
        array = array.argmax(axis=1)
    if array.ndim != 1:
        raise ValueError(
            f"{name} has shape {array.shape}, but must be {expected}. Pass one "
            f"label per sample."
        )
    if array.dtype == bool:
        array = array.astype("int64")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(
        array.dtype, np.complexfloating
    ):
        raise ValueError(
            f"{name} has dtype {array.dtype}, but must hold {expected}. Map the "
            f"labels to ids first, e.g. names, {name} = np.unique({name}, "
            f"return_inverse=True)."
        )
    whole = np.isfinite(array) & (array == np.round(array))
    if not whole.all():
        index = int(np.flatnonzero(~whole)[0])
        raise ValueError(
            f"{name} holds values that are not whole numbers (e.g. "
            f"{array[index].item()!r} at index {index}), but must hold {expected}. "
            f"Pass class ids, not scores or probabilities."
        )
    if (array < 0).any():
        index = int(np.flatnonzero(array < 0)[0])
        raise ValueError(
            f"{name} holds negative labels (e.g. {array[index].item()!r} at index "
            f"{index}), but class ids must be 0..K-1. If negative labels mark "
            f"unlabelled samples, drop them: keep = {name} >= 0."
        )
    return array.astype("int64"), width


def _s(count):
    return "" if count == 1 else "s"
