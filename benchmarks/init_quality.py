"""Initialization quality: GAN init against the standard initializers, side by side.

Trains the same shallow classifier from every initializer on real data and
reports validation accuracy at epochs 1, 3, 10 and last, the epochs needed to
reach HeNormal's final accuracy, diverged runs, and wall times. Writes
`docs/benchmarks.md` and learning-curve PNGs under `docs/benchmarks/`.

What each method costs is in every table: the wall time to HeNormal's final
accuracy with the pretraining included (the pretraining or setup seconds plus
the supervised run's seconds up to the end of the first epoch whose mean
reaches it; per-epoch times are recorded in results.json as `epoch_s`, and
older files without them show '-'), and the pretraining or setup seconds
relative to the whole supervised run's.

Beside LSUV, the other data-driven initializer without pretraining is
AnyInit's empirical mode (`anyinit.initialize(model, "empirical", x[:512],
seed=seed)`, the `benchmarks` extra): like LSUV it is applied to the feature
extractor alone (the sub-model GAN init pretrains and whose weights every
method hands over), built with the same Orthogonal placeholders, fed the
same first 512 unlabelled training inputs, with the cell's seed; the softmax
head is Glorot-uniform as for every method. Its pass is timed as the
method's setup, as LSUV's is. Where AnyInit raises on a network, the cell
records the method as failed with the error, and the run goes on.

    python benchmarks/init_quality.py --quick        # < 10 min on 2 CPUs (CI)
    python benchmarks/init_quality.py                # the full grid (hours)
    python benchmarks/init_quality.py --cells digits-mlp-relu-adam-all --seeds 5
    python benchmarks/init_quality.py --grid modern  # the residual CNN cells

Every cell of the grid is dataset x network x activation x optimizer x label
fraction. Pretraining (autoencoder and GAN variants) sees all training inputs
without labels; supervised training sees the labelled fraction.

`--grid` picks the cells run without `--cells`: "classic" (the default) is
the 48 cells of the recorded results (digits, MNIST-1D and MNIST-1D 40k; MLP
and CNN; ReLU and tanh; Adam and SGD; all and 10% of the labels), run exactly
as they were recorded; "deep" is 12 cells of plain deep networks with no
normalization on digits: 12 Dense layers of width 64 ("deepmlp") and 10
same-padded convolutions of 16 channels ("deepcnn"), with ReLU, tanh and
sigmoid, Adam and SGD, all labels; "modern" is 8 cells of a small residual
CNN with BatchNormalization ("rescnn": a functional graph, not a chain of
layers) with ReLU, on digits and on "shapes-rgb" (coloured shapes and
textures on cluttered, noisy 32x32 RGB images, generated here from a fixed
seed, no download); "all" is all three. `--cells` takes any combination of
the datasets (digits, mnist1d, mnist1d-40k, shapes-rgb), networks (mlp, cnn,
deepmlp, deepcnn, rescnn), activations (relu, tanh, sigmoid), optimizers
(adam, sgd) and label fractions (all, 10pct), e.g.
shapes-rgb-cnn-relu-sgd-all or mnist1d-deepmlp-sigmoid-sgd-all.

Cells are independent: run them as separate processes, one `--out` folder
each, and merge the folders' results.json files with `--from-results`.

This file is the command line and the running: the data, the networks, each
method's pretraining or setup, supervised training, the grids and the cells.
The methods' names and groups are in `init_quality_methods.py`; summarizing,
merging results.json files and writing the report and plots, in
`init_quality_report.py`.
"""

import argparse
import datetime
import functools
import itertools
import json
import os
import platform
import shlex
import sys
import time

import init_quality_report as report
import keras
import numpy as np
from init_quality_methods import ABLATIONS, BASELINE, METHODS, NOT_COMPETING
from keras import layers

import keras_ganinit
from keras_ganinit._src.calibration.calibrate import nearest_orthogonal
from keras_ganinit._src.graph.layers import kernel_layers, scale_variable
from keras_ganinit._src.pretraining.defaults import DEFAULT_STEPS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


@functools.cache
def load(dataset, seed):
    """(x_train, y_train, x_test, y_test, image_shape) as float32 / int32."""
    if dataset == "digits":
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        data = load_digits()
        x = (data.data / 16.0).astype("float32")
        x_train, x_test, y_train, y_test = train_test_split(
            x, data.target, test_size=0.3, random_state=0, stratify=data.target
        )
        return x_train, y_train, x_test, y_test, (8, 8, 1)
    if dataset == "shapes-rgb":
        return shapes_rgb()
    import mnist1d

    args = mnist1d.data.get_dataset_args()
    args.num_samples = 50_000 if dataset == "mnist1d-40k" else 5_000
    data = mnist1d.data.make_dataset(args)
    return (
        data["x"].astype("float32"),
        data["y"],
        data["x_test"].astype("float32"),
        data["y_test"],
        (40, 1),
    )


# shapes-rgb: one shape or texture per image, its class, drawn at a random
# position, size, tilt and colour over a two-colour gradient background with
# clutter (blobs and line segments in random colours) and Gaussian noise. The
# colours say nothing about the class; only the outline and texture do. Far
# from saturated at epoch 3: HeNormal's validation accuracy there (seeds 0-1,
# JAX) was 0.51 (rescnn) and 0.46 (cnn) with Adam and all labels, 0.30 and
# 0.28 with SGD, 0.13-0.15 with 10% of the labels.
SHAPES = (
    "disc",
    "ring",
    "square",
    "frame",
    "triangle",
    "plus",
    "cross",
    "horizontal stripes",
    "vertical stripes",
    "checkerboard",
)
SHAPES_SEED = 2024
SHAPES_SIZE = 32
SHAPES_TRAIN, SHAPES_TEST = 3000, 1000
SHAPES_NOISE = 0.1  # std of the Gaussian pixel noise, pixels in [0, 1]
SHAPES_CLUTTER = 4  # mean number of distractors per image (Poisson)
# Each channel of the background's two colours and of the shape's colour is
# drawn from these ranges: light shapes on a dark ground (with shapes and
# grounds of any colour, the CNN was at 0.16 at epoch 3, the rescnn at 0.11).
SHAPES_BACKGROUND = (0.0, 0.45)
SHAPES_FOREGROUND = (0.55, 1.0)


def shape_mask(shape, u, v, radius):
    """Pixels inside `shape`, at coordinates (u, v) from its centre, tilted."""
    box = np.maximum(np.abs(u), np.abs(v))
    if shape == "disc":
        return np.hypot(u, v) < radius
    if shape == "ring":
        return (np.hypot(u, v) < radius) & (np.hypot(u, v) > 0.6 * radius)
    if shape == "square":
        return box < 0.85 * radius
    if shape == "frame":
        return (box < 0.85 * radius) & (box > 0.5 * radius)
    if shape == "triangle":
        return (v < 0.6 * radius) & (np.abs(u) < 0.6 * (v + radius))
    if shape == "cross":  # a plus turned by 45 degrees
        u, v = (u + v) / np.sqrt(2), (v - u) / np.sqrt(2)
    if shape in ("plus", "cross"):
        bar = 0.3 * radius
        return ((np.abs(u) < bar) & (np.abs(v) < radius)) | (
            (np.abs(v) < bar) & (np.abs(u) < radius)
        )
    period = max(2.5, 0.55 * radius)
    stripes = {
        "horizontal stripes": np.floor(v / period),
        "vertical stripes": np.floor(u / period),
        "checkerboard": np.floor(u / period) + np.floor(v / period),
    }[shape]
    return (box < 0.85 * radius) & (stripes % 2 == 0)


def shapes_image(shape, rng, size=SHAPES_SIZE):
    """One (size, size, 3) image of `shape` in [0, 1]."""
    y, x = np.mgrid[0:size, 0:size].astype("float64") + 0.5
    low, high = rng.uniform(*SHAPES_BACKGROUND, 3), rng.uniform(*SHAPES_BACKGROUND, 3)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (x - size / 2) + np.sin(angle) * (y - size / 2)) / size
    image = low + (high - low) * np.clip(ramp + 0.5, 0, 1)[..., None]
    for _ in range(rng.poisson(SHAPES_CLUTTER)):
        colour = rng.uniform(0, 1, 3)
        cx, cy = rng.uniform(0, size, 2)
        if rng.random() < 0.5:
            blob = np.hypot(x - cx, y - cy) < rng.uniform(0.06, 0.12) * size
        else:
            turn = rng.uniform(0, np.pi)
            along = np.cos(turn) * (x - cx) + np.sin(turn) * (y - cy)
            across = np.cos(turn) * (y - cy) - np.sin(turn) * (x - cx)
            length = rng.uniform(0.15, 0.35) * size
            blob = (np.abs(across) < 0.7) & (np.abs(along) < length)
        image[blob] = colour
    radius = rng.uniform(0.18, 0.34) * size
    cx, cy = rng.uniform(radius, size - radius, 2)
    tilt = rng.uniform(-0.35, 0.35)
    u = np.cos(tilt) * (x - cx) + np.sin(tilt) * (y - cy)
    v = np.cos(tilt) * (y - cy) - np.sin(tilt) * (x - cx)
    inside = shape_mask(shape, u, v, radius)
    under = image[inside].mean(0) if inside.any() else image.mean((0, 1))
    colour = rng.uniform(*SHAPES_FOREGROUND, 3)
    while np.abs(colour - under).max() < 0.25:  # visible against what it covers
        colour = rng.uniform(*SHAPES_FOREGROUND, 3)
    image[inside] = colour
    image += rng.normal(0, SHAPES_NOISE, image.shape)
    return np.clip(image, 0, 1)


def shapes_rgb():
    """(x_train, y_train, x_test, y_test, image_shape): flat RGB images, 10 shapes.

    The same every time (drawn from SHAPES_SEED), with balanced classes in
    random order.
    """
    rng = np.random.default_rng(SHAPES_SEED)
    count = SHAPES_TRAIN + SHAPES_TEST
    labels = rng.permutation(np.arange(count) % len(SHAPES))
    x = np.stack([shapes_image(SHAPES[label], rng) for label in labels])
    x = x.reshape(count, -1).astype("float32")
    labels = labels.astype("int32")
    n = SHAPES_TRAIN
    return x[:n], labels[:n], x[n:], labels[n:], (SHAPES_SIZE, SHAPES_SIZE, 3)


# "deepmlp" and "deepcnn": plain deep networks, no normalization, where by the
# variance argument behind every standard initializer a poor start vanishes,
# explodes or saturates (issue 12: "converges instead of diverging", strongest
# form). deepmlp: DEEP_LAYERS Dense layers of width 64; deepcnn:
# DEEP_CONV_LAYERS convolutions of 16 channels, same padding, no pooling.
DEEP_LAYERS = 12
DEEP_CONV_LAYERS = 10


def hidden_layers(network, activation, image_shape, initializer):
    """The extractor's layers: what the classifier starts with."""
    init = initializer
    if network == "deepmlp":
        return [
            layers.Dense(
                64, activation=activation, kernel_initializer=init(), name=f"h{i}"
            )
            for i in range(1, DEEP_LAYERS + 1)
        ]
    if network == "mlp":
        return [
            layers.Dense(
                64, activation=activation, kernel_initializer=init(), name="h1"
            ),
            layers.Dense(
                32, activation=activation, kernel_initializer=init(), name="h2"
            ),
        ]
    conv = layers.Conv2D if len(image_shape) == 3 else layers.Conv1D
    pool = layers.MaxPooling2D if len(image_shape) == 3 else layers.MaxPooling1D
    kernel = 3 if len(image_shape) == 3 else 5

    def same_conv(i):
        return conv(
            16,
            kernel,
            padding="same",
            activation=activation,
            kernel_initializer=init(),
            name=f"h{i}",
        )

    if network == "deepcnn":
        return [
            layers.Reshape(image_shape, name="image"),
            *(same_conv(i) for i in range(1, DEEP_CONV_LAYERS + 1)),
            layers.Flatten(name="flat"),
        ]
    return [
        layers.Reshape(image_shape, name="image"),
        same_conv(1),
        pool(2, name="pool"),
        conv(32, 3, activation=activation, kernel_initializer=init(), name="h2"),
        layers.Flatten(name="flat"),
    ]


# The moving statistics' momentum of rescnn's BatchNormalization layers:
# PyTorch's default. With Keras's 0.99 they lagged far behind the few hundred
# steps of a cell (shapes-rgb, HeNormal, Adam, all labels, one seed: validation
# accuracy 0.19 at epoch 3 against 0.42 with 0.9, at a training accuracy of
# 0.51 in both).
BN_MOMENTUM = 0.9


def residual_cnn(inputs, activation, image_shape, initializer):
    """A small ResNet on `inputs`: the extractor's output tensor.

    A stem (Conv-BN-activation, 16 channels), then two residual blocks
    (Conv-BN-activation-Conv-BN, added to the skip, activation), the second
    with stride 2 and 32 channels, its skip a 1x1 Conv-BN projection; then
    global average pooling. The convolutions have no bias (BatchNormalization
    follows each) and every layer has a fixed name, so weights transfer by
    name. Conv1D for (steps, channels) inputs, Conv2D for images.
    """
    conv = layers.Conv2D if len(image_shape) == 3 else layers.Conv1D
    pool = (
        layers.GlobalAveragePooling2D
        if len(image_shape) == 3
        else layers.GlobalAveragePooling1D
    )

    def conv_bn(x, filters, kernel, strides, name):
        x = conv(
            filters,
            kernel,
            strides=strides,
            padding="same",
            use_bias=False,
            kernel_initializer=initializer(),
            name=name,
        )(x)
        return layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)

    def block(x, filters, strides, name):
        y = conv_bn(x, filters, 3, strides, f"{name}_conv1")
        y = layers.Activation(activation, name=f"{name}_act1")(y)
        y = conv_bn(y, filters, 3, 1, f"{name}_conv2")
        if strides != 1 or x.shape[-1] != filters:
            x = conv_bn(x, filters, 1, strides, f"{name}_proj")
        x = layers.Add(name=f"{name}_add")([x, y])
        return layers.Activation(activation, name=f"{name}_out")(x)

    x = layers.Reshape(image_shape, name="image")(inputs)
    x = conv_bn(x, 16, 3, 1, "stem")
    x = layers.Activation(activation, name="stem_act")(x)
    x = block(x, 16, 1, "block1")
    x = block(x, 32, 2, "block2")
    return pool(name="pool")(x)


# Networks built as a functional graph on the input, by name; the others
# ("mlp", "cnn", "deepmlp", "deepcnn") are the chains of `hidden_layers`,
# built as Sequential models exactly as in the recorded results.
GRAPH_NETWORKS = {"rescnn": residual_cnn}


def extractor(cell, features, image_shape, initializer):
    """The feature extractor: what the classifier starts with."""
    network, activation = cell["network"], cell["activation"]
    if network in GRAPH_NETWORKS:
        inputs = keras.Input((features,), name="pixels")
        outputs = GRAPH_NETWORKS[network](inputs, activation, image_shape, initializer)
        return keras.Model(inputs, outputs, name="extractor")
    return keras.Sequential(
        [
            keras.Input((features,)),
            *hidden_layers(network, activation, image_shape, initializer),
        ],
        name="extractor",
    )


# Pretraining sees no labels and no optimizer choice, so cells that differ only
# in those share it: (dataset, network, activation, method, seed, epochs) ->
# (weights, seconds). The seconds reported are those of the one computation.
_PRETRAINED = {}


class MethodFailed(RuntimeError):
    """A method could not initialize this network: `seconds` were spent trying."""

    def __init__(self, message, seconds):
        super().__init__(message)
        self.seconds = seconds


def pretrain(method, cell, x_train, image_shape, seed, epochs):
    """Returns (extractor weights by layer name, pretraining seconds).

    Raises MethodFailed where the method cannot handle the network (AnyInit).
    """
    key = (cell["dataset"], cell["network"], cell["activation"], method, seed, epochs)
    if key not in _PRETRAINED:
        try:
            _PRETRAINED[key] = _pretrain(
                method, cell, x_train, image_shape, seed, epochs
            )
        except MethodFailed as failure:
            _PRETRAINED[key] = failure
    if isinstance(_PRETRAINED[key], MethodFailed):
        raise _PRETRAINED[key]
    return _PRETRAINED[key]


def anyinit_pass(model, x_train, seed, start, **kwargs):
    """`anyinit.initialize` on `model`; MethodFailed with its error if it raises."""
    import anyinit

    try:
        anyinit.initialize(model, input_spec=x_train[:512], seed=seed, **kwargs)
    except Exception as error:
        message = f"{type(error).__name__}: {error}".splitlines()[0]
        raise MethodFailed(message, time.perf_counter() - start) from error


def _pretrain(method, cell, x_train, image_shape, seed, epochs):
    kind, initializer, kwargs = METHODS[method]
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    if kind == "random":
        model = extractor(
            cell, x_train.shape[1], image_shape, lambda: initializer(**kwargs)
        )
    elif kind == "lsuv":
        model = extractor(
            cell, x_train.shape[1], image_shape, keras.initializers.Orthogonal
        )
        keras_ganinit.lsuv(model, x_train[:512], **kwargs)
    elif kind == "anyinit":
        model = extractor(
            cell, x_train.shape[1], image_shape, keras.initializers.Orthogonal
        )
        anyinit_pass(model, x_train, seed, start, **kwargs)
    else:
        model = extractor(
            cell, x_train.shape[1], image_shape, keras.initializers.GlorotUniform
        )
        if kind == "autoencoder":
            gan = keras_ganinit.GanInitModel(model)
            auto = keras.Sequential([model, gan.decoder])
            auto.compile(keras.optimizers.Adam(1e-3), "mae")
            auto.fit(x_train, x_train, epochs=epochs, batch_size=64, verbose=0)
            if kwargs.get("calibrate"):
                gan.calibrate(x_train[:512])
        else:
            kwargs = dict(kwargs)
            post = kwargs.pop("post", None)
            steps = kwargs.pop("steps", None)
            generator_input = model
            noise = kwargs.pop("noise", 0.0)
            if noise:
                generator_input = keras.Sequential(
                    [
                        keras.Input(model.inputs[0].shape[1:]),
                        keras.layers.GaussianNoise(noise, seed=seed),
                        model,
                    ]
                )
            if kwargs.pop("tied", False):
                kwargs["decoder"] = keras_ganinit.mirror(model, tied=True)
            gan = keras_ganinit.GanInitModel(generator_input, **kwargs)
            gan.compile()
            if steps:
                gan.fit(x_train, steps=steps, batch_size=64, verbose=0)
            elif GAN_BUDGET["epochs"]:
                gan.fit(x_train, epochs=epochs, batch_size=64, verbose=0)
            else:  # GanInitModel's own default budget (DEFAULT_STEPS steps)
                gan.fit(x_train, batch_size=64, verbose=0)
            model = gan.extractor
            if post == "orth+lsuv":
                orthogonalize(model)
            if post is not None:
                keras_ganinit.lsuv(model, x_train[:512])
    weights = {layer.name: layer.get_weights() for layer in model.layers}
    return weights, time.perf_counter() - start


def orthogonalize(model):
    """Sets every kernel of `model` to its nearest orthogonal matrix, in place.

    The first step of the package's calibration (`calibrate`: orthogonalize,
    then LSUV with centered biases), alone, for the methods and variants that
    follow it with something else; nested and graph models too.
    """
    for layer in kernel_layers(model):
        kernel = scale_variable(layer)
        values = keras.ops.convert_to_numpy(kernel)
        kernel.assign(nearest_orthogonal(values))


def train(cell, weights, data, seed, epochs, timings=None, stats=None):
    """Supervised training from `weights`: (val accuracy per epoch, diverged, s).

    `timings`, a list, gets the seconds from the start of fit to the end of
    each epoch (validation included); `stats`, a dict, the extractor's
    epoch-0 activation statistics on 512 test samples (`epoch0_stats`).
    """
    x_train, y_train, x_test, y_test, image_shape = data
    keras.utils.set_random_seed(seed)
    model, body = classifier(cell, x_train.shape[1], image_shape, seed)
    for layer in body:
        if layer.weights:  # kernels, biases, BatchNormalization's four
            layer.set_weights(weights[layer.name])
    if stats is not None:
        stats.update(epoch0_stats(model, body, x_test[:512]))
    return fit_classifier(model, cell, data, epochs, timings)


def epoch0_stats(model, body, x_batch):
    """The extractor's activation statistics before supervised training.

    From `keras_ganinit.activation_report` on the classifier (its extractor
    layers' rows): the smallest and largest output std over layers, and the
    largest dead and saturated fractions.
    """
    names = {layer.name for layer in body}
    rows = [
        row
        for row in keras_ganinit.activation_report(model, x_batch).rows
        if row["layer"] in names
    ]
    if not rows:
        return {}
    stds = [row["output_std"] for row in rows]
    return dict(
        min_std=float(min(stds)),
        max_std=float(max(stds)),
        max_dead=float(max(row["dead_fraction"] for row in rows)),
        max_saturated=float(max(row["saturated_fraction"] for row in rows)),
    )


def classifier(cell, features, image_shape, seed):
    """(the classifier, its extractor's layers): a fresh extractor and a head.

    The extractor's weights are Glorot-uniform placeholders, to be set by
    layer name; the softmax head is Glorot-uniform from `seed`.
    """

    def head():
        return layers.Dense(
            10,
            activation="softmax",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        )

    placeholder = keras.initializers.GlorotUniform
    if cell["network"] in GRAPH_NETWORKS:
        body = extractor(cell, features, image_shape, placeholder)
        return keras.Model(body.inputs, head()(body.outputs[0])), body.layers
    body = hidden_layers(cell["network"], cell["activation"], image_shape, placeholder)
    return keras.Sequential([keras.Input((features,)), *body, head()]), body


class EpochClock(keras.callbacks.Callback):
    """Appends to `times` the seconds since `start` at the end of every epoch."""

    def __init__(self, start, times):
        super().__init__()
        self.start, self.times = start, times

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def fit_classifier(model, cell, data, epochs, timings=None):
    """Compiles and fits a classifier as the cell says: (accuracy, diverged, s).

    `timings`, a list, gets the seconds from the start of fit to the end of
    each epoch (validation included).
    """
    x_train, y_train, x_test, y_test, _ = data
    optimizer = (
        keras.optimizers.Adam(1e-3)
        if cell["optimizer"] == "adam"
        else keras.optimizers.SGD(0.05)
    )
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    n = int(len(x_train) * cell["labels"])
    start = time.perf_counter()
    history = model.fit(
        x_train[:n],
        y_train[:n],
        epochs=epochs,
        batch_size=64,
        validation_data=(x_test, y_test),
        verbose=0,
        callbacks=[] if timings is None else [EpochClock(start, timings)],
    ).history
    seconds = time.perf_counter() - start
    losses = np.asarray(history["loss"])
    diverged = bool(not np.all(np.isfinite(losses)) or losses.max() > 100 * losses[0])
    accuracy = np.nan_to_num(np.asarray(history["val_accuracy"]), nan=0.0)
    return accuracy, diverged, seconds


def cell_name(cell):
    labels = "all" if cell["labels"] == 1.0 else f"{int(cell['labels'] * 100)}pct"
    return "-".join(
        [
            cell["dataset"],
            cell["network"],
            cell["activation"],
            cell["optimizer"],
            labels,
        ]
    )


def product(datasets, networks, activations, optimizers, labels):
    """Every cell of these choices, the first list varying slowest."""
    return [
        dict(
            dataset=dataset,
            network=network,
            activation=activation,
            optimizer=optimizer,
            labels=fraction,
        )
        for dataset, network, activation, optimizer, fraction in itertools.product(
            datasets, networks, activations, optimizers, labels
        )
    ]


OPTIMIZERS, LABELS = ["adam", "sgd"], [1.0, 0.1]


def grid(quick):
    """The 48 cells of the recorded results, or with `quick` one of them."""
    if quick:
        return product(["digits"], ["mlp"], ["relu"], ["adam"], [1.0])
    return product(
        ["digits", "mnist1d", "mnist1d-40k"],
        ["mlp", "cnn"],
        ["relu", "tanh"],
        OPTIMIZERS,
        LABELS,
    )


def modern_grid():
    """The 8 residual CNN cells: digits and shapes-rgb, ReLU."""
    return product(["digits", "shapes-rgb"], ["rescnn"], ["relu"], OPTIMIZERS, LABELS)


def deep_grid():
    """The 12 deep plain cells on digits: deepmlp, deepcnn, three activations."""
    activations = ["relu", "tanh", "sigmoid"]
    return product(["digits"], ["deepmlp", "deepcnn"], activations, OPTIMIZERS, [1.0])


# The cells run without --cells, by --grid.
GRIDS = {
    "classic": lambda: grid(False),
    "modern": modern_grid,
    "deep": deep_grid,
    "all": lambda: grid(False) + modern_grid() + deep_grid(),
}


def every_cell():
    """Every cell `--cells` can name, the grids' cells in the grids' order."""
    return product(
        ["digits", "mnist1d", "mnist1d-40k", "shapes-rgb"],
        ["mlp", "cnn", "deepmlp", "deepcnn", *GRAPH_NETWORKS],
        ["relu", "tanh", "sigmoid"],
        OPTIMIZERS,
        LABELS,
    )


# Pretraining length, in steps of batch 64: 30 epochs of digits (what the
# digits cells were tuned with), 10 of MNIST-1D, 1 of MNIST-1D 40k, 13 of
# shapes-rgb. Longer was worse on MNIST-1D (docs/benchmarks.md, findings).
PRETRAIN_STEPS = 600


# --gan-budget: "default" pretrains the GAN methods with GanInitModel's own
# default budget (`fit` given neither steps nor epochs: DEFAULT_STEPS steps);
# "epochs" with the autoencoder's whole epochs, as the recorded tables did.
GAN_BUDGET = {"epochs": False}


def pretrain_epochs_for(x_train, pretrain_epochs):
    """`pretrain_epochs` if given, else the epochs that make PRETRAIN_STEPS."""
    if pretrain_epochs:
        return pretrain_epochs
    steps_per_epoch = -(-len(x_train) // 64)
    return max(1, round(PRETRAIN_STEPS / steps_per_epoch))


def run_cell(cell, seeds, epochs, pretrain_epochs, methods):
    data = load(cell["dataset"], 0)
    pretrain_epochs = pretrain_epochs_for(data[0], pretrain_epochs)
    results = {}
    for method in methods:
        runs = []
        for seed in seeds:
            try:
                weights, pre_s = pretrain(
                    method, cell, data[0], data[4], seed, pretrain_epochs
                )
            except MethodFailed as failure:
                runs.append(dict(failed=str(failure), pretrain_s=failure.seconds))
                continue
            epoch_s, epoch0 = [], {}
            accuracy, diverged, train_s = train(
                cell, weights, data, seed, epochs, epoch_s, epoch0
            )
            runs.append(
                dict(
                    accuracy=accuracy.tolist(),
                    diverged=diverged,
                    pretrain_s=pre_s,
                    train_s=train_s,
                    epoch_s=epoch_s,
                    epoch0=epoch0,
                )
            )
        results[method] = runs
        done = [r for r in runs if not r.get("failed")]
        if len(done) < len(runs):
            failed = next(r["failed"] for r in runs if r.get("failed"))
            print(
                f"  {method:<20} failed in {len(runs) - len(done)}/{len(runs)} "
                f"runs: {failed}",
                flush=True,
            )
        if not done:
            continue
        acc = np.array([r["accuracy"] for r in done])
        print(
            f"  {method:<20} epoch 1/3/last: "
            + " ".join(
                f"{acc[:, min(e, epochs) - 1].mean():.3f}" for e in (1, 3, epochs)
            ),
            flush=True,
        )
    return results


def run_meta(command, seeds, epochs, pretrain_epochs, minutes):
    """What a results.json records about the run that produced it."""
    return dict(
        command=command,
        seeds=f"{len(seeds)} (seeds {seeds[0]}-{seeds[-1]})",
        epochs=epochs,
        pretrain_epochs=pretrain_epochs,
        minutes=minutes,
        date=datetime.date.today().isoformat(),
        machine=f"{platform.platform()}, {os.cpu_count()} CPUs",
        keras=f"Keras {keras.__version__} ({keras.backend.backend()})",
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one digits cell, 2 seeds, few epochs (CI smoke test)",
    )
    parser.add_argument(
        "--grid",
        choices=sorted(GRIDS),
        default="classic",
        help="the cells to run without --cells: classic (the 48 recorded "
        "cells), modern (the 8 residual CNN cells), deep (the 12 deep plain "
        "deepmlp and deepcnn cells) or all",
    )
    parser.add_argument(
        "--cells",
        nargs="*",
        help="only these cells (any dataset-network-activation-optimizer-labels)",
    )
    parser.add_argument(
        "--methods",
        nargs="*",
        default=None,
        help="default: every method but the ablations",
    )
    parser.add_argument(
        "--ablations", action="store_true", help="also run the GAN option ablations"
    )
    parser.add_argument("--seeds", type=int, default=None, help="seeds per cell")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds are first-seed, first-seed + 1, ... (fresh seeds for a "
        "confirmation run after choosing options on others)",
    )
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument(
        "--pretrain-epochs",
        type=int,
        default=None,
        help=f"default: {PRETRAIN_STEPS} steps of batch 64, in whole epochs",
    )
    parser.add_argument(
        "--gan-budget",
        choices=["default", "epochs"],
        default="default",
        help="the GAN methods' pretraining length: GanInitModel's default "
        f"(fit without steps or epochs: {DEFAULT_STEPS} steps) or the "
        "autoencoder's whole epochs (--pretrain-epochs; the recorded tables)",
    )
    parser.add_argument(
        "--from-results",
        nargs="+",
        help="rebuild the report, plots and one merged results.json from these "
        "results.json files (runs of different cells), no training",
    )
    parser.add_argument(
        "--rename",
        nargs="*",
        default=(),
        help="with --from-results: OLD=NEW method labels",
    )
    parser.add_argument(
        "--findings",
        help="a Markdown file of findings to put into benchmarks.md",
    )
    parser.add_argument(
        "--command",
        default=None,
        help="with --from-results: the command that produced the results",
    )
    parser.add_argument(
        "--out",
        default=os.path.join(ROOT, "docs"),
        help="folder for benchmarks.md and benchmarks/*.png",
    )
    args = parser.parse_args(argv)
    if args.from_results:
        return report.rebuild(
            args.from_results,
            args.command or "python benchmarks/init_quality.py (see results.json)",
            args.out,
            args.rename,
            args.findings,
        )
    command = shlex.join(["python", "benchmarks/init_quality.py", *argv])
    GAN_BUDGET["epochs"] = args.gan_budget == "epochs"
    count = args.seeds or (2 if args.quick else 3)
    args.seeds = list(range(args.first_seed, args.first_seed + count))
    args.epochs = args.epochs or (5 if args.quick else 15)
    args.pretrain_epochs = args.pretrain_epochs or (5 if args.quick else None)
    if args.methods is None:
        args.methods = [
            m
            for m in METHODS
            if m not in NOT_COMPETING or (args.ablations and m in ABLATIONS)
        ]
    unknown = set(args.methods) - set(METHODS)
    if unknown or BASELINE not in args.methods:
        parser.error(
            f"--methods must include {BASELINE!r} and come from "
            f"{list(METHODS)}; unknown: {sorted(unknown)}"
        )
    cells = grid(True) if args.quick else GRIDS[args.grid]()
    if args.cells:
        known = {cell_name(c): c for c in every_cell()}
        unknown = [name for name in args.cells if name not in known]
        if unknown:
            parser.error(
                f"no cell is named {', '.join(unknown)}; names are dataset-"
                f"network-activation-optimizer-labels, e.g. "
                f"digits-mlp-relu-adam-all, mnist1d-cnn-tanh-sgd-10pct or "
                f"shapes-rgb-rescnn-relu-adam-all"
            )
        cells = [c for name, c in known.items() if name in args.cells]
    out_dir = os.path.join(args.out, "benchmarks")
    os.makedirs(out_dir, exist_ok=True)
    start = time.perf_counter()
    summaries, raw = {}, {}
    for cell in cells:
        name = cell_name(cell)
        print(f"{name}", flush=True)
        raw[name] = run_cell(
            cell, args.seeds, args.epochs, args.pretrain_epochs, args.methods
        )
        summaries[name] = report.summarize(raw[name], args.epochs)
        report.plot(name, summaries[name], out_dir)
        minutes = (time.perf_counter() - start) / 60
        meta = run_meta(
            command,
            args.seeds,
            args.epochs,
            str(
                args.pretrain_epochs
                or f"{PRETRAIN_STEPS} steps (digits 30 epochs, MNIST-1D 10, "
                f"40k 1, shapes-rgb 13)"
            )
            + (
                ""
                if GAN_BUDGET["epochs"]
                else f"; the GAN methods {DEFAULT_STEPS} steps (GanInitModel's "
                f"default budget)"
            ),
            minutes,
        )
        with open(os.path.join(out_dir, "results.json"), "w") as handle:
            json.dump({"meta": meta, "cells": raw}, handle)
        report.write_report(
            summaries,
            report.header(meta),
            os.path.join(args.out, "benchmarks.md"),
            args.findings,
        )
    epoch = min(3, args.epochs)
    for name, summary in summaries.items():
        best, ok = report.verdict(summary, epoch=epoch)
        ratio = (
            summary["GAN (default)"]["at"][epoch][0] / summary[BASELINE]["at"][epoch][0]
            if "GAN (default)" in summary
            else float("nan")
        )
        print(
            f"{name}: GAN (default) / HeNormal accuracy at epoch {epoch} = "
            f"{ratio:.3f}; best: {best}; within 2 std of best standard: {ok}"
        )
    return summaries


if __name__ == "__main__":
    main()
