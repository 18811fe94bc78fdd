"""Few labels: does GAN pretraining pay where unsupervised pretraining should?

A large unlabelled pool, a handful of labels (1, 4, 10 and 40 per class,
drawn per seed from a separate labelled pool), a held-out test set. Every
method initializes the same feature extractor from the unlabelled pool (or
from nothing), then two numbers are measured per (cell, method, labels,
seed):

- linear probe: `linear_probe(extractor, x_few, y_few, validation_data=
  (x_test, y_test), seed=seed).accuracy`, a softmax layer on the frozen,
  standardized features;
- fine-tuned: the extractor plus a softmax head (Glorot-uniform from the
  seed), Adam(1e-3), `FINETUNE_STEPS` steps of batch min(32, labels) over
  the few labels; test accuracy at each of `CHECKPOINTS` (the report gives
  the last and an early one).

The same seed gives every method the same labels, the same head, the same
batch order and, for every method that starts from Glorot-uniform kernels
(calibration alone, the autoencoders, GAN init and its variants), the same
starting extractor. Differences against calibration alone and against the
autoencoder of the same budget are paired by seed: mean and a band of
mean ± 2 standard errors (2 * sd of the per-seed differences / sqrt(n)).

Cells (`--cells`):

- mnist1d-cnn: MNIST-1D (generated offline with `mnist1d`), 20,000
  unlabelled, 4,000 labelled, 3,000 test; Conv1D(16, 5) - MaxPool -
  Conv1D(32, 3) - Flatten.
- mnist1d-mlp: the same data; Dense(128) - Dense(128).
- shapes16-cnn: 16x16 grey images drawn here (no download): ten outlines
  (disc, ring, square, frame, triangle, plus, cross, diamond, T, L) at a
  random position, size and tilt, over a random gradient with blobs and
  pixel noise, brightness unrelated to the class. Logistic regression on
  the pixels scores 0.17 with 4,000 labels (chance 0.10). Conv2D(16, 3) -
  MaxPool - Conv2D(32, 3) - Flatten.

Methods (`--methods`; `python benchmarks/few_labels.py --list` prints them
all): He, Glorot, LSUV, AnyInit (empirical), calibration alone
(`keras_ganinit.calibrate` on Glorot kernels), an L1 autoencoder (the
extractor and `keras_ganinit.mirror(extractor)`, Adam(1e-3), MAE, GAN init's
default budget of 200 steps of batch 32, then calibrated), a denoising one
(Dropout masking in front), GAN init as it ships (`GanInitModel(extractor);
compile(); fit(x)`), and the variants tried for issue 22: masked or noisy
generator input, budgets in epochs over the pool, reconstruction weights,
handing over only the first layer, two-time-scale discriminator learning
rates, and a BiGAN/ALI prototype; in round 2 (docs/benchmarks/few_labels/
round2/), 10-epoch budgets for the GAN and the autoencoder, finished by
`calibrate` or only rescaled (`lsuv(..., center=True)`, which keeps the
learned spectrum), and a spectrally normalized discriminator.

    python benchmarks/few_labels.py --quick --out /tmp/few      # CI, ~1 min
    python benchmarks/few_labels.py --seeds 0 1 2 --labels 4 10 --out DIR
    python benchmarks/few_labels.py --cells mnist1d-mlp --methods He \\
        Calibration AE GAN --seeds 100 101 102 103 104
    python benchmarks/few_labels.py --from-results A/results.json \\
        B/results.json --out DIR                              # merge, report

Without `--methods` it runs the baselines and GAN as it ships; name a
variant in quotes (`--methods Calibration AE GAN "GAN mask 0.5"`).
`--backend` sets KERAS_BACKEND for the run (it must come before Keras is
imported, so it is read from the command line first); the report notes the
backend used. TensorFlow is the one measured fastest for these small models
on 2 CPUs (one MNIST-1D cell: TensorFlow and JAX alike for fine-tuning and
probing, TensorFlow about twice as fast for GanInitModel's 200 steps,
PyTorch 5-15x slower on all three). Results go to `--out`: results.json
(every run) and few_labels.md (the report).

The recorded results (docs/benchmarks/few_labels/) ran as two processes
side by side, split by method, merged with `--from-results`: the selection
(seeds 0-2, `--labels 4 10`, the GAN variants, Calibration and the
autoencoders) and then, under decision_rule.md written before it, the
confirmation (seeds 100-104, `--labels 1 4 10 40`, the baselines, GAN and the
three shortlisted variants).
"""

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import os
import platform  # noqa: E402
import shlex  # noqa: E402
import sys
import time  # noqa: E402

import _backend  # noqa: F401 (sets KERAS_BACKEND from --backend)
import keras  # noqa: E402
import numpy as np  # noqa: E402
from _tables import markdown_table  # noqa: E402
from keras import layers  # noqa: E402

import keras_ganinit  # noqa: E402

try:
    from keras_ganinit import linear_probe  # noqa: E402
except ImportError:  # not exported yet
    from keras_ganinit._src.diagnostics.linear_probe import (  # noqa: E402
        linear_probe,
    )

CLASSES = 10
LABELS = (1, 4, 10, 40)  # labels per class
# Pool sizes: unlabelled (pretraining), labelled (the few labels are drawn
# from it, disjoint from the unlabelled pool), test.
SIZES = {"full": (20_000, 4_000, 3_000), "quick": (2_000, 1_000, 500)}
# GAN init's default budget (`GanInitModel.fit(x)` on arrays: 200 steps of
# Keras's default batch, 32); the autoencoders get the same.
DEFAULT_STEPS, DEFAULT_BATCH = 200, 32
QUICK_STEPS = 20
FINETUNE_STEPS = 150
CHECKPOINTS = (10, 25, 50, 100, 150)  # fine-tuning steps at which to test
EARLY = 25  # the early point reported beside the last
QUICK_FINETUNE = (5, 25)
CALIBRATION_SAMPLES = 512


# Data ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Pool:
    """One cell's data: an unlabelled pool, a labelled pool, a test set."""

    unlabelled: np.ndarray
    x_labelled: np.ndarray
    y_labelled: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    shape: tuple  # the extractor's reshape of a flat sample


@functools.cache
def load(dataset, size):
    """The Pool of `dataset` ("mnist1d" or "shapes16"), `size` "full"/"quick"."""
    n_pool, n_labelled, n_test = SIZES[size]
    if dataset == "mnist1d":
        import mnist1d

        args = mnist1d.data.get_dataset_args()  # generated, never downloaded
        args.num_samples = int(np.ceil((n_pool + n_labelled) / args.train_split))
        data = mnist1d.data.make_dataset(args)
        x, y = data["x"].astype("float32"), data["y"].astype("int32")
        x_test, y_test = data["x_test"].astype("float32"), data["y_test"]
        shape = (x.shape[1], 1)
    else:
        x, y = shapes16(n_pool + n_labelled + n_test, SHAPES_SEED)
        x_test, y_test = x[n_pool + n_labelled :], y[n_pool + n_labelled :]
        mean, std = x[:n_pool].mean(), x[:n_pool].std()
        x, x_test = (x - mean) / std, (x_test - mean) / std
        shape = (SHAPES_SIZE, SHAPES_SIZE, 1)
    return Pool(
        x[:n_pool],
        x[n_pool : n_pool + n_labelled],
        y[n_pool : n_pool + n_labelled].astype("int32"),
        x_test[:n_test],
        np.asarray(y_test[:n_test], dtype="int32"),
        shape,
    )


# shapes16: ten outlines on 16x16 grey images, drawn from a fixed seed.
SHAPES16 = (
    "disc",
    "ring",
    "square",
    "frame",
    "triangle",
    "plus",
    "cross",
    "diamond",
    "tee",
    "ell",
)
SHAPES_SEED, SHAPES_SIZE = 2024, 16


def shape_mask(kind, u, v, r):
    """Pixels inside the outline `kind` at (u, v) from its centre, radius r."""
    box, rad, bar = np.maximum(np.abs(u), np.abs(v)), np.hypot(u, v), 0.32 * r
    if kind == "disc":
        return rad < r
    if kind == "ring":
        return (rad < r) & (rad > 0.55 * r)
    if kind == "square":
        return box < 0.8 * r
    if kind == "frame":
        return (box < 0.85 * r) & (box > 0.45 * r)
    if kind == "triangle":
        return (v < 0.6 * r) & (np.abs(u) < 0.6 * (v + r))
    if kind == "diamond":
        return np.abs(u) + np.abs(v) < r
    if kind == "cross":  # a plus turned by 45 degrees
        u, v = (u + v) / np.sqrt(2), (v - u) / np.sqrt(2)
    if kind in ("plus", "cross"):
        return ((np.abs(u) < bar) & (np.abs(v) < r)) | (
            (np.abs(v) < bar) & (np.abs(u) < r)
        )
    if kind == "tee":
        top = (np.abs(v + 0.7 * r) < bar) & (np.abs(u) < r)
        return top | ((np.abs(u) < bar) & (np.abs(v) < r))
    # "ell"
    side = (np.abs(u + 0.7 * r) < bar) & (np.abs(v) < r)
    return side | ((np.abs(v - 0.7 * r) < bar) & (u > -r) & (u < 0.8 * r))


def shapes16(n, seed, size=SHAPES_SIZE):
    """(n flat images in about [0, 1], their classes), classes balanced."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(SHAPES16))
    y, x = np.mgrid[0:size, 0:size] + 0.5

    def per_image(values):
        return values[:, None, None]

    r = rng.uniform(3.0, 6.0, n)
    cx, cy = (per_image(rng.uniform(0.8 * r, size - 0.8 * r)) for _ in range(2))
    tilt = per_image(rng.uniform(-0.4, 0.4, n))
    r = per_image(r)
    u = np.cos(tilt) * (x - cx) + np.sin(tilt) * (y - cy)
    v = np.cos(tilt) * (y - cy) - np.sin(tilt) * (x - cx)
    angle = per_image(rng.uniform(0, 2 * np.pi, n))
    low, high = (per_image(rng.uniform(0, 0.4, n)) for _ in range(2))
    ramp = (np.cos(angle) * (x - size / 2) + np.sin(angle) * (y - size / 2)) / size
    image = low + (high - low) * np.clip(ramp + 0.5, 0, 1)
    for _ in range(2):  # clutter: up to two small blobs
        on = per_image(rng.random(n) < 0.6)
        bx, by, br = (per_image(rng.uniform(a, b, n)) for a, b in SHAPES_BLOBS)
        blob = on & (np.hypot(x - bx, y - by) < br)
        image = np.where(blob, per_image(rng.uniform(0.3, 1.0, n)), image)
    inside = np.zeros((n, size, size), bool)
    for c, kind in enumerate(SHAPES16):
        i = labels == c
        inside[i] = shape_mask(kind, u[i], v[i], r[i])
    image = np.where(inside, per_image(rng.uniform(0.6, 1.0, n)), image)
    image = image + rng.normal(0, 0.1, image.shape)
    return image.reshape(n, -1).astype("float32"), labels.astype("int32")


SHAPES_BLOBS = ((0, SHAPES_SIZE), (0, SHAPES_SIZE), (0.8, 1.8))  # x, y, radius


# Networks -----------------------------------------------------------------

CELLS = {
    "mnist1d-cnn": ("mnist1d", "cnn"),
    "mnist1d-mlp": ("mnist1d", "mlp"),
    "shapes16-cnn": ("shapes16", "cnn"),
}


def build_extractor(network, shape, initializer):
    """The feature extractor on flat inputs, kernels from `initializer()`."""
    features = int(np.prod(shape))
    if network == "mlp":
        hidden = [
            layers.Dense(128, activation="relu", kernel_initializer=initializer())
            for _ in range(2)
        ]
    else:
        two_d = len(shape) == 3
        conv = layers.Conv2D if two_d else layers.Conv1D
        pool = layers.MaxPooling2D if two_d else layers.MaxPooling1D
        hidden = [
            layers.Reshape(shape),
            conv(16, 3 if two_d else 5, padding="same", activation="relu",
                 kernel_initializer=initializer()),
            pool(2),
            conv(32, 3, activation="relu", kernel_initializer=initializer()),
            layers.Flatten(),
        ]  # fmt: skip
    return keras.Sequential([keras.Input((features,)), *hidden], name="extractor")


def kernel_layers(model):
    return [
        layer for layer in model.layers if getattr(layer, "kernel", None) is not None
    ]


# Methods ------------------------------------------------------------------


@dataclasses.dataclass
class Context:
    """What a method needs: the cell's network and data, and the budget."""

    network: str
    pool: Pool
    quick: bool

    def extractor(self, initializer):
        return build_extractor(self.network, self.pool.shape, initializer)

    @property
    def batch(self):
        return self.pool.unlabelled[:CALIBRATION_SAMPLES]


def random_init(ctx, seed, initializer):
    """A Keras initializer, nothing else."""
    keras.utils.set_random_seed(seed)
    return ctx.extractor(initializer)


def lsuv_init(ctx, seed):
    """Orthogonal kernels, then `keras_ganinit.lsuv` on 512 pool samples."""
    keras.utils.set_random_seed(seed)
    model = ctx.extractor(keras.initializers.Orthogonal)
    keras_ganinit.lsuv(model, ctx.batch)
    return model


def anyinit_init(ctx, seed):
    """Orthogonal placeholders, then AnyInit's empirical mode (512 samples)."""
    import anyinit

    keras.utils.set_random_seed(seed)
    model = ctx.extractor(keras.initializers.Orthogonal)
    anyinit.initialize(model, "empirical", ctx.batch, seed=seed)
    return model


def calibration_only(ctx, seed):
    """Glorot-uniform kernels, then `keras_ganinit.calibrate`: no pretraining."""
    keras.utils.set_random_seed(seed)
    model = ctx.extractor(keras.initializers.GlorotUniform)
    keras_ganinit.calibrate(model, ctx.batch)
    return model


def corrupted(model, seed, mask=0.0, noise=0.0):
    """`model` behind a Dropout (masking) or GaussianNoise layer, if asked.

    The mirror skips those layers, so a generator or autoencoder built on
    the result reconstructs the clean input from the corrupted one.
    """
    if not (mask or noise):
        return model
    layer = (
        layers.Dropout(mask, seed=seed)
        if mask
        else layers.GaussianNoise(noise, seed=seed)
    )
    return keras.Sequential(
        [keras.Input(model.inputs[0].shape[1:]), layer, model], name="corrupted"
    )


def budget(ctx, epochs):
    """fit() keyword arguments for a budget of `epochs` over the pool, or the
    default 200 steps of batch 32 (None); a few steps in a --quick run."""
    if ctx.quick:
        return {"steps": QUICK_STEPS}
    if epochs:
        return {"epochs": epochs, "batch_size": EPOCH_BATCH}
    return {}


EPOCH_BATCH = 64


def finish(ctx, model, how):
    """The pretrained extractor, calibrated ("calibrate": orthogonal kernels,
    then centred unit variance) or only rescaled ("rescale": `lsuv(...,
    center=True)`, which keeps the spectrum the pretraining learned)."""
    if how == "rescale":
        keras_ganinit.lsuv(model, ctx.batch, center=True)
    else:
        keras_ganinit.calibrate(model, ctx.batch)


def autoencoder(ctx, seed, mask=0.0, noise=0.0, epochs=None, how="calibrate"):
    """The extractor and its mirror trained on L1 reconstruction, calibrated.

    Adam(1e-3), mean absolute error against the clean input, GAN init's
    budget (200 steps of batch 32 drawn without repetition) or `epochs` over
    the pool; then `keras_ganinit.calibrate` as GAN init does after fit, or
    only rescaled (`how="rescale"`, see `finish`).
    """
    keras.utils.set_random_seed(seed)
    model = ctx.extractor(keras.initializers.GlorotUniform)
    decoder = keras_ganinit.mirror(model, seed=seed)
    auto = keras.Sequential([corrupted(model, seed, mask, noise), decoder])
    auto.compile(keras.optimizers.Adam(1e-3), "mae")
    x = ctx.pool.unlabelled
    fit = budget(ctx, epochs)
    if "epochs" in fit:
        auto.fit(x, x, verbose=0, **fit)
    else:
        steps = fit.get("steps", DEFAULT_STEPS)
        order = np.random.default_rng(seed).permutation(len(x))
        x = x[np.resize(order, steps * DEFAULT_BATCH)]
        auto.fit(x, x, batch_size=DEFAULT_BATCH, shuffle=False, verbose=0)
    finish(ctx, model, how)
    return model


def gan_init(ctx, seed, mask=0.0, noise=0.0, epochs=None, handover=None,
             d_lr=None, how=None, **gan_kwargs):  # fmt: skip
    """GanInitModel on the extractor (behind a corruption layer if asked).

    `epochs`: fit that many epochs over the pool (batch 64) instead of the
    default 200 steps; `handover`: keep only the first `handover` kernel
    layers' pretrained weights, the rest fresh Glorot, then calibrate it all;
    `d_lr`: the discriminator's Adam learning rate (the generator's stays
    2e-4, both beta_1=0.5); `how="rescale"`: no calibration after fit, only
    `finish(..., "rescale")`; `gan_kwargs` go to GanInitModel.
    """
    if how == "rescale":
        gan_kwargs["calibration"] = False
    spectral_norm = gan_kwargs.pop("spectral_norm", False)
    keras.utils.set_random_seed(seed)
    model = ctx.extractor(keras.initializers.GlorotUniform)
    if spectral_norm:
        gan_kwargs["discriminator"] = spectral_norm_discriminator(ctx.pool.shape)
    gan = keras_ganinit.GanInitModel(
        corrupted(model, seed, mask, noise), seed=seed, **gan_kwargs
    )
    if d_lr:
        gan.compile(
            generator_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
            discriminator_optimizer=keras.optimizers.Adam(d_lr, beta_1=0.5),
        )
    else:
        gan.compile()
    gan.fit(ctx.pool.unlabelled, verbose=0, **budget(ctx, epochs))
    if how == "rescale":
        finish(ctx, model, how)
    if handover:
        keras.utils.set_random_seed(seed + 1)
        fresh = ctx.extractor(keras.initializers.GlorotUniform)
        pairs = zip(kernel_layers(model), kernel_layers(fresh), strict=True)
        for old, new in list(pairs)[:handover]:
            new.set_weights(old.get_weights())
        keras_ganinit.calibrate(fresh, ctx.batch)
        return fresh
    return model


def spectral_norm_discriminator(shape):
    """GanInitModel's default MLP discriminator for flat samples of `shape`,
    every Dense wrapped in `keras.layers.SpectralNormalization` (Miyato et
    al. 2018): each layer's largest singular value held at 1."""
    size = int(np.prod(shape))
    width = int(min(512, max(64, 2 ** (size - 1).bit_length())))
    return keras.Sequential(
        [
            keras.Input((size,)),
            layers.SpectralNormalization(layers.Dense(width)),
            layers.LeakyReLU(0.2),
            layers.SpectralNormalization(layers.Dense(width // 2)),
            layers.LeakyReLU(0.2),
            layers.SpectralNormalization(layers.Dense(1)),
        ],
        name="sn_discriminator",
    )


def bigan(ctx, seed, epochs=None):
    """A BiGAN/ALI prototype (not in the package), then calibrated.

    Encoder E = the extractor; generator G = its mirror fed z ~ N(0, 1) of
    the feature shape; a joint discriminator D(x, z) (a Dense(256) branch
    for each, concatenated, Dense(256), one logit) learns to tell (x, E(x))
    from (G(z), z), and E and G learn from flipped labels (non-saturating),
    each side with Adam(2e-4, beta_1=0.5), for GAN init's budget. Plain
    Keras: two compiled models sharing D, with D frozen in the second (each
    train function keeps the trainable variables it was traced with).
    """
    keras.utils.set_random_seed(seed)
    model = ctx.extractor(keras.initializers.GlorotUniform)
    decoder = keras_ganinit.mirror(model, seed=seed)
    feature_shape = tuple(model.outputs[0].shape[1:])
    features, inputs = int(np.prod(feature_shape)), int(np.prod(ctx.pool.shape))
    x_in, z_in = keras.Input((inputs,)), keras.Input((features,))
    hx = layers.Dense(256, activation="leaky_relu")(x_in)
    hz = layers.Dense(256, activation="leaky_relu")(z_in)
    h = layers.Dense(256, activation="leaky_relu")(layers.Concatenate()([hx, hz]))
    disc = keras.Model([x_in, z_in], layers.Dense(1)(h), name="joint_d")
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    disc.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), bce)
    x_real, z_fake = keras.Input((inputs,)), keras.Input((features,))
    e_x = layers.Flatten()(model(x_real))
    g_z = layers.Flatten()(decoder(layers.Reshape(feature_shape)(z_fake)))
    players = keras.Model([x_real, z_fake], [e_x, g_z], name="e_g")
    both = keras.Model(
        [x_real, z_fake], [disc([x_real, e_x]), disc([g_z, z_fake])], name="e_g_d"
    )
    both.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), [bce, bce])
    x = ctx.pool.unlabelled
    fit = budget(ctx, epochs)
    batch = fit.get("batch_size", DEFAULT_BATCH)
    steps = fit["epochs"] * (len(x) // batch) if "epochs" in fit else None
    steps = steps or fit.get("steps", DEFAULT_STEPS)
    rng = np.random.default_rng(seed)
    order = np.resize(rng.permutation(len(x)), steps * batch).reshape(steps, batch)
    ones, zeros = np.ones((batch, 1), "float32"), np.zeros((batch, 1), "float32")
    for rows in order:
        xb = x[rows]
        zb = rng.normal(size=(batch, features)).astype("float32")
        ex, gz = players.predict_on_batch([xb, zb])
        disc.trainable = True
        disc.train_on_batch(
            [np.concatenate([xb, gz]), np.concatenate([ex, zb])],
            np.concatenate([ones, zeros]),
        )
        disc.trainable = False
        both.train_on_batch([xb, zb], [zeros, ones])  # flipped labels
    keras_ganinit.calibrate(model, ctx.batch)
    return model


@dataclasses.dataclass(frozen=True)
class Method:
    """How a method initializes the extractor, and its budget-matched autoencoder."""

    run: functools.partial
    autoencoder: str = "AE"  # the autoencoder of the same pretraining budget
    group: str = "variant"  # "baseline", "gan" (as it ships) or "variant"


def _m(fn, group="variant", autoencoder="AE", **kwargs):
    return Method(functools.partial(fn, **kwargs), autoencoder, group)


METHODS = {
    "He": _m(random_init, "baseline", initializer=keras.initializers.HeNormal),
    "Glorot": _m(random_init, "baseline", initializer=keras.initializers.GlorotUniform),
    "LSUV": _m(lsuv_init, "baseline"),
    "AnyInit": _m(anyinit_init, "baseline"),
    "Calibration": _m(calibration_only, "baseline"),
    "AE": _m(autoencoder, "baseline"),
    "DAE mask 0.25": _m(autoencoder, "baseline", mask=0.25),
    "AE 3 epochs": _m(autoencoder, "baseline", "AE 3 epochs", epochs=3),
    "GAN": _m(gan_init, "gan"),
    # 1. masked / noisy generator input (target: the clean input)
    "GAN mask 0.25": _m(gan_init, autoencoder="DAE mask 0.25", mask=0.25),
    "GAN mask 0.5": _m(gan_init, mask=0.5),
    "GAN noise 0.5": _m(gan_init, noise=0.5),
    # 2. budgets that grow with the pool
    "GAN 3 epochs": _m(gan_init, autoencoder="AE 3 epochs", epochs=3),
    # 3. reconstruction / adversarial balance
    "GAN rw 0.1": _m(gan_init, reconstruction_weight=0.1),
    "GAN rw 10": _m(gan_init, reconstruction_weight=10.0),
    # 4. only the first kernel layer handed over
    "GAN first layer": _m(gan_init, handover=1),
    # 5. two-time-scale learning rates (generator 2e-4)
    "GAN D lr 4e-4": _m(gan_init, d_lr=4e-4),
    "GAN D lr 1e-4": _m(gan_init, d_lr=1e-4),
    # 6. BiGAN/ALI prototype
    "BiGAN": _m(bigan),
    # Round 2 (docs/benchmarks/few_labels/round2/decision_rule.md): a budget
    # of 10 epochs over the pool, and keeping the learned spectrum (rescale
    # instead of calibrate), for the GAN and its autoencoder.
    "AE 10 epochs": _m(autoencoder, "baseline", "AE 10 epochs", epochs=10),
    "AE 10 epochs, rescaled": _m(
        autoencoder, "baseline", "AE 10 epochs, rescaled", epochs=10, how="rescale"
    ),
    "GAN 10 epochs": _m(gan_init, autoencoder="AE 10 epochs", epochs=10),
    "GAN 10 epochs, rescaled": _m(
        gan_init, autoencoder="AE 10 epochs, rescaled", epochs=10, how="rescale"
    ),
    # Round 2b: a spectrally normalized discriminator, default budget and at
    # 10 epochs with the spectrum kept.
    "GAN SN": _m(gan_init, spectral_norm=True),
    "GAN SN 10 epochs, rescaled": _m(
        gan_init,
        autoencoder="AE 10 epochs, rescaled",
        epochs=10,
        how="rescale",
        spectral_norm=True,
    ),
}
BASELINES = ["He", "Glorot", "LSUV", "AnyInit", "Calibration", "AE", "DAE mask 0.25"]
REFERENCE = "Calibration"
QUICK_METHODS = ["He", "Calibration", "AE", "GAN"]


# Running ------------------------------------------------------------------


def draw_labels(pool, seed, per_class):
    """`per_class` labelled samples of each class, the same for every method."""
    rng = np.random.default_rng([seed, per_class])
    rows = np.concatenate(
        [
            rng.choice(np.flatnonzero(pool.y_labelled == c), per_class, replace=False)
            for c in range(CLASSES)
        ]
    )
    return pool.x_labelled[rows], pool.y_labelled[rows]


def accuracy(model, x, y):
    predicted = model.predict(x, batch_size=4096, verbose=0).argmax(axis=1)
    return float(np.mean(predicted == y))


@functools.cache
def classifier(network, shape):
    """(the cell's classifier, its optimizer's fresh state), built once.

    Every fine-tuning run of a cell reuses one compiled model (extractor +
    softmax head, Adam(1e-3)): its weights and optimizer state are reset
    before each run, so no run pays Keras's tracing and the seconds compare.
    It is traced here, on both batch sizes, before any run is timed.
    """
    extractor = build_extractor(network, shape, keras.initializers.GlorotUniform)
    head = layers.Dense(CLASSES, activation="softmax")
    model = keras.Sequential([extractor, head])
    model.compile(
        keras.optimizers.Adam(1e-3),
        "sparse_categorical_crossentropy",
        steps_per_execution=5,  # divides every checkpoint's chunk of steps
    )
    model.optimizer.build(model.trainable_variables)
    fresh = [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]
    x = np.zeros((2 * 32, int(np.prod(shape))), "float32")
    y = np.zeros(len(x), "int32")
    for batch in (CLASSES, 32):  # 1 label per class, and the rest
        model.fit(x[: 2 * batch], y[: 2 * batch], batch_size=batch, verbose=0)
    model.predict(np.zeros((3000, x.shape[1]), "float32"), batch_size=4096, verbose=0)
    return model, fresh


def fine_tune(ctx, weights, x, y, seed, checkpoints):
    """(test accuracy, seconds of fitting) at each checkpoint (in steps).

    The extractor's `weights`, a softmax head Glorot-uniform from `seed`
    (zero bias), Adam(1e-3) from a fresh state, batches of min(32, len(x))
    in an order fixed by `seed`.
    """
    model, fresh = classifier(ctx.network, ctx.pool.shape)
    features = model.layers[-1].kernel.shape[0]
    head = keras.initializers.GlorotUniform(seed=seed)((features, CLASSES))
    model.set_weights(
        [*weights, keras.ops.convert_to_numpy(head), np.zeros(CLASSES, "float32")]
    )
    for variable, value in zip(model.optimizer.variables, fresh, strict=True):
        variable.assign(value)
    batch = min(32, len(x))
    rng = np.random.default_rng([seed, len(x), 7])
    epochs = -(-checkpoints[-1] * batch // len(x))
    order = np.concatenate([rng.permutation(len(x)) for _ in range(epochs)])
    accuracies, seconds, done, fitting = [], [], 0, 0.0
    for step in checkpoints:
        rows = order[done * batch : step * batch]
        start = time.perf_counter()
        model.fit(x[rows], y[rows], batch_size=batch, shuffle=False, verbose=0)
        fitting += time.perf_counter() - start
        done = step
        accuracies.append(accuracy(model, ctx.pool.x_test, ctx.pool.y_test))
        seconds.append(fitting)
    return accuracies, seconds


def run_one(cell, method, seed, labels, quick):
    """Pretrain (or initialize) once, then probe and fine-tune per label count."""
    dataset, network = CELLS[cell]
    ctx = Context(network, load(dataset, "quick" if quick else "full"), quick)
    checkpoints = QUICK_FINETUNE if quick else CHECKPOINTS
    start = time.perf_counter()
    try:
        model = METHODS[method].run(ctx, seed)
    except Exception as error:  # e.g. AnyInit refusing a network
        message = f"{type(error).__name__}: {error}".splitlines()[0]
        return dict(cell=cell, method=method, seed=seed, failed=message)
    pretrain_s = time.perf_counter() - start
    weights = model.get_weights()
    record = dict(
        cell=cell,
        method=method,
        seed=seed,
        pretrain_s=pretrain_s,
        checkpoints=list(checkpoints),
        labels={},
    )
    for per_class in labels:
        x, y = draw_labels(ctx.pool, seed, per_class)
        probe = linear_probe(
            model, x, y, validation_data=(ctx.pool.x_test, ctx.pool.y_test), seed=seed
        )
        tuned, seconds = fine_tune(ctx, weights, x, y, seed, checkpoints)
        record["labels"][str(per_class)] = dict(
            probe=probe.accuracy, finetune=tuned, finetune_s=seconds
        )
    return record


# Report -------------------------------------------------------------------


def band(differences):
    """(mean, low, high) of paired differences: mean ± 2 standard errors."""
    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        return float(d.mean()), float("nan"), float("nan")
    half = 2 * d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def points(value):
    return f"{100 * value:+.1f}"


def band_text(b):
    mean, low, high = b
    if np.isnan(low):
        return points(mean)
    return f"{points(mean)} [{points(low)}, {points(high)}]"


def table_of(runs):
    """{cell: {method: {seed: record}}} of the runs that did not fail."""
    table = {}
    for r in runs:
        if "failed" not in r:
            table.setdefault(r["cell"], {}).setdefault(r["method"], {})[r["seed"]] = r
    return table


def metric(record, per_class, name, checkpoint=None):
    entry = record["labels"][str(per_class)]
    if name == "probe":
        return entry["probe"]
    index = (
        -1
        if checkpoint is None
        else record["checkpoints"].index(checkpoint)
        if checkpoint in record["checkpoints"]
        else 0
    )
    return entry["finetune"][index]


def paired(by_method, method, reference, per_class, name):
    """Paired-by-seed differences method - reference, or None."""
    if reference not in by_method or method not in by_method:
        return None
    seeds = sorted(
        s
        for s in by_method[method]
        if s in by_method[reference]
        and str(per_class) in by_method[method][s]["labels"]
        and str(per_class) in by_method[reference][s]["labels"]
    )
    if not seeds:
        return None
    return [
        metric(by_method[method][s], per_class, name)
        - metric(by_method[reference][s], per_class, name)
        for s in seeds
    ]


def time_to(by_method, method, per_class, target):
    """Pretraining + fine-tuning seconds to reach `target` mean accuracy."""
    records = list(by_method[method].values())
    curves = np.array([r["labels"][str(per_class)]["finetune"] for r in records])
    seconds = np.array([r["labels"][str(per_class)]["finetune_s"] for r in records])
    reached = np.flatnonzero(curves.mean(0) >= target - 1e-9)
    if not len(reached):
        return "never"
    pre = np.mean([r["pretrain_s"] for r in records])
    return f"{pre + seconds[:, reached[0]].mean():.1f}"


def cell_tables(by_method, per_class):
    """The Markdown table of one cell at one label count."""
    header = [
        "method",
        "probe",
        "Δ probe vs Calibration",
        "Δ probe vs AE",
        "fine-tuned",
        "Δ fine-tuned vs Calibration",
        "Δ fine-tuned vs AE",
        f"fine-tuned @{EARLY} steps",
        "pretrain s",
        "s to He's final",
    ]
    have = [m for m in METHODS if m in by_method]
    have += [m for m in by_method if m not in METHODS]
    target = None
    if "He" in by_method:
        target = np.mean(
            [metric(r, per_class, "finetune") for r in by_method["He"].values()]
        )
    rows = []
    for method in have:
        records = [
            r for r in by_method[method].values() if str(per_class) in r["labels"]
        ]
        if not records:
            continue
        probe = [metric(r, per_class, "probe") for r in records]
        tuned = [metric(r, per_class, "finetune") for r in records]
        early = [metric(r, per_class, "finetune", EARLY) for r in records]
        ae = METHODS[method].autoencoder if method in METHODS else "AE"
        cells = [method, f"{np.mean(probe):.3f} ± {np.std(probe):.3f}"]
        for name in ("probe", "finetune"):
            if name == "finetune":
                cells.append(f"{np.mean(tuned):.3f} ± {np.std(tuned):.3f}")
            for reference in (REFERENCE, ae):
                d = paired(by_method, method, reference, per_class, name)
                text = "" if d is None or method == reference else band_text(band(d))
                if text and reference != "AE" and reference != REFERENCE:
                    text += f" ({reference})"
                cells.append(text)
        cells.append(f"{np.mean(early):.3f}")
        cells.append(f"{np.mean([r['pretrain_s'] for r in records]):.1f}")
        cells.append(
            "-" if target is None else time_to(by_method, method, per_class, target)
        )
        rows.append(cells)
    return markdown_table(header, rows)


def goals(table, labels):
    """Issue 22's goals for every GAN method: (Markdown table, rows)."""
    few = [k for k in labels if k <= 10]
    header = [
        "method",
        "cells: fine-tuned ≥ +5 vs Calibration, band > 0",
        "cells: fine-tuned ≥ +2 vs budget AE",
        "cells: probe ≥ +5 vs Calibration",
        "worst cell, fine-tuned vs Calibration (band)",
    ]
    rows = []
    for method in goal_methods(table):
        counts = [0, 0, 0]
        worst = None
        for by_method in table.values():
            if method not in by_method:
                continue
            ok = [True, True, True]
            for k in few:
                vs_cal = paired(by_method, method, REFERENCE, k, "finetune")
                vs_ae = paired(
                    by_method, method, METHODS[method].autoencoder, k, "finetune"
                )
                probe = paired(by_method, method, REFERENCE, k, "probe")
                if vs_cal is None:
                    ok = [False] * 3
                    continue
                b = band(vs_cal)
                ok[0] &= b[0] >= 0.05 and b[1] > 0
                ok[1] &= vs_ae is not None and band(vs_ae)[0] >= 0.02
                ok[2] &= probe is not None and band(probe)[0] >= 0.05
                if worst is None or b[0] < worst[0]:
                    worst = b
            counts = [c + o for c, o in zip(counts, ok, strict=True)]
        n = sum(method in by_method for by_method in table.values())
        rows.append(
            [
                method,
                *(f"{c}/{n}" for c in counts),
                "" if worst is None else band_text(worst),
            ]
        )
    return markdown_table(header, rows)


def averaged(by_method, method, reference, labels):
    """Per-seed fine-tuned differences method - reference, averaged over
    `labels` (the seeds that have them all), or None."""
    per_k = [paired(by_method, method, reference, k, "finetune") for k in labels]
    if any(d is None for d in per_k) or len({len(d) for d in per_k}) != 1:
        return None
    return list(np.mean(per_k, axis=0))


def rule(table, labels):
    """The decision rule (decision_rule.md) for every GAN method: a table.

    Primary endpoint: per seed, fine-tuned accuracy minus calibration
    alone's, averaged over 1, 4 and 10 labels per class; band mean ± 2 SE.
    """
    few = [k for k in labels if k <= 10]
    cells = list(table)
    header = [
        "method",
        *(f"{cell}: vs Calibration" for cell in cells),
        *(f"{cell}: vs GAN" for cell in cells),
        "verdict",
    ]
    rows = []
    for method in goal_methods(table):
        above = below = better = 0
        vs_cal, vs_gan = [], []
        for cell in cells:
            d = averaged(table[cell], method, REFERENCE, few)
            g = averaged(table[cell], method, "GAN", few) if method != "GAN" else None
            vs_cal.append("" if d is None else band_text(band(d)))
            vs_gan.append("" if g is None else band_text(band(g)))
            if d is not None:
                b = band(d)
                above += b[1] > 0
                below += b[2] < 0
            better += g is not None and np.mean(g) > 0
        passed = above >= 2 and not below and (method == "GAN" or better >= 2)
        verdict = (
            f"{'PASS' if passed else 'fail'}: band > 0 in {above}, < 0 in {below}"
            + ("" if method == "GAN" else f", above GAN in {better}")
        )
        rows.append([method, *vs_cal, *vs_gan, verdict])
    return markdown_table(header, rows)


def goal_methods(table):
    """The GAN methods in `table` (as it ships and the variants), in order."""
    return sorted(
        {m for cells in table.values() for m in cells if m in METHODS}
        - set(BASELINES)
        - {"AE 3 epochs"},
        key=list(METHODS).index,
    )


def report(runs, meta, labels):
    table = table_of(runs)
    lines = [
        "# Few labels: GAN init against calibration alone and autoencoders",
        "",
        f"Command: `{meta['command']}`  ",
        f"Keras {meta['keras']} on {meta['backend']}; {meta['machine']}; "
        f"{meta['date']}; {meta['minutes']:.1f} minutes (summed over the "
        f"processes merged).  ",
        f"Seeds: {meta['seeds']}. Pools: {meta['sizes']}.  ",
        "Accuracies are test accuracies (fractions); Δ are paired by seed, in "
        "accuracy points, as mean [mean - 2 SE, mean + 2 SE] with SE = sd of the "
        "per-seed differences / sqrt(seeds). 'vs AE' is against the autoencoder "
        "of the same budget (AE: 200 steps of batch 32; AE 3 epochs; DAE mask "
        "0.25 for GAN mask 0.25). Fine-tuned: after "
        f"{meta['finetune_steps']} Adam steps (and at {EARLY}). 's to He's "
        "final': pretraining + fine-tuning seconds until the mean accuracy "
        "reaches He's mean final fine-tuned accuracy (checkpoints "
        f"{meta['checkpoints']}).",
        "",
    ]
    failed = [r for r in runs if "failed" in r]
    for r in failed:
        lines.append(
            f"- failed: {r['cell']} {r['method']} seed {r['seed']}: {r['failed']}"
        )
    if failed:
        lines.append("")
    lines += [
        "## Goals (issue 22), labels per class ≤ 10",
        "",
        goals(table, labels),
        "",
    ]
    lines += [
        "## Decision rule (decision_rule.md): fine-tuned Δ averaged over "
        "the label counts ≤ 10 per class",
        "",
        rule(table, labels),
        "",
    ]
    for cell, by_method in table.items():
        for per_class in labels:
            lines += [f"## {cell}, {per_class} labels per class", ""]
            lines += [cell_tables(by_method, per_class), ""]
    return "\n".join(lines)


def write(out, runs, meta, labels):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as handle:
        json.dump({"meta": meta, "runs": runs}, handle)
    with open(os.path.join(out, "few_labels.md"), "w") as handle:
        handle.write(report(runs, meta, labels))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (CI)")
    parser.add_argument("--cells", nargs="+", choices=list(CELLS), default=list(CELLS))
    parser.add_argument(
        "--methods", nargs="+", default=None, help="default: baselines + GAN"
    )
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=None, help="default 0-4"
    )
    parser.add_argument("--labels", nargs="+", type=int, default=None, help="per class")
    parser.add_argument("--out", default="docs/benchmarks/few_labels")
    parser.add_argument(
        "--backend",
        choices=["tensorflow", "jax", "torch"],
        default=None,
        help="the Keras backend (sets KERAS_BACKEND); default: Keras's configured one",
    )
    parser.add_argument("--from-results", nargs="+", help="merge these results.json")
    parser.add_argument("--list", action="store_true", help="print the method names")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(METHODS))
        return None
    command = shlex.join(["python", "benchmarks/few_labels.py", *argv])
    if args.from_results:
        runs, metas = [], []
        for path in args.from_results:
            with open(path) as handle:
                data = json.load(handle)
            runs += data["runs"]
            metas.append(data["meta"])
        meta = dict(metas[0], command=command, minutes=sum(m["minutes"] for m in metas))
        labels = args.labels or sorted(
            {int(k) for r in runs if "labels" in r for k in r["labels"]}
        )
        write(args.out, runs, meta, labels)
        return runs
    methods = args.methods or (QUICK_METHODS if args.quick else [*BASELINES, "GAN"])
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown methods {unknown}; known: {list(METHODS)}")
    seeds = args.seeds or ([0] if args.quick else list(range(5)))
    labels = args.labels or ([1, 10] if args.quick else list(LABELS))
    meta = dict(
        command=command,
        backend=keras.backend.backend(),
        keras=keras.__version__,
        machine=f"{platform.platform()}, {os.cpu_count()} CPUs",
        date=datetime.date.today().isoformat(),
        seeds=" ".join(map(str, seeds)),
        sizes="unlabelled/labelled/test = "
        + "/".join(map(str, SIZES["quick" if args.quick else "full"])),
        finetune_steps=(QUICK_FINETUNE if args.quick else CHECKPOINTS)[-1],
        checkpoints=list(QUICK_FINETUNE if args.quick else CHECKPOINTS),
        minutes=0.0,
    )
    start, runs = time.perf_counter(), []
    for cell in args.cells:
        for method in methods:
            for seed in seeds:
                began = time.perf_counter()
                record = run_one(cell, method, seed, labels, args.quick)
                record["total_s"] = time.perf_counter() - began
                runs.append(record)
                meta["minutes"] = (time.perf_counter() - start) / 60
                if "failed" in record:
                    print(
                        f"{cell} {method} {seed}: FAILED {record['failed']}", flush=True
                    )
                    continue
                summary = " ".join(
                    f"{k}:{v['probe']:.3f}/{v['finetune'][-1]:.3f}"
                    for k, v in record["labels"].items()
                )
                print(
                    f"{cell} {method} seed {seed} ({record['pretrain_s']:.1f}s "
                    f"of {record['total_s']:.1f}s) "
                    f"probe/fine-tuned {summary}",
                    flush=True,
                )
            write(args.out, runs, meta, labels)
    print(f"done in {meta['minutes']:.1f} min; wrote {args.out}")
    return runs


if __name__ == "__main__":
    main()
