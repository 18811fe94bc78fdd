"""One registry of initialization methods, shared by every study.

A method takes `build`, a function that returns a fresh feature extractor
whose kernels come from the initializer factory it is given (a Keras
initializer class, or any callable that returns an initializer), the
unlabelled training inputs `x`, a seed and a `Budget`, and returns the
initialized extractor. The data-dependent methods see `x[:SAMPLES]`; the
pretraining methods see all of `x`, without labels. Every method seeds Keras
with `seed` before it builds, so methods that start from the same
initializer start from the same weights.

`METHODS` holds the methods by the names the reports use:

- Keras default: `build(None)`, every layer keeps its own initializers;
- He, Glorot, LeCun, Orthogonal, RandomNormal(0.02): Keras's HeNormal,
  GlorotUniform, LecunNormal, Orthogonal and RandomNormal(stddev=0.02);
- LSUV: Orthogonal, then `keras_ganinit.lsuv`;
- AnyInit: Orthogonal placeholders, then AnyInit's empirical mode;
- Calibration: Glorot, then `keras_ganinit.calibrate` (no pretraining);
- Looks-linear: Glorot, then `calibrate(..., looks_linear=True)`;
- AE, DAE mask 0.25: the extractor and `keras_ganinit.mirror(extractor)`
  trained on L1 reconstruction (Adam(1e-3)) for the GAN's budget, behind a
  Dropout(0.25) for the denoising one, then calibrated as GAN init is;
- GAN: `GanInitModel(extractor).compile(); .fit(x)` as it ships;
- GAN (paper): the same with `recipe="paper"`.

`gan(...)` and `autoencoder(...)` make the variants a study names.
"""

import dataclasses
import functools

import keras
import numpy as np

import keras_ganinit

SAMPLES = 512  # what the data-dependent methods see
DEFAULT_STEPS, DEFAULT_BATCH = 200, 32  # GanInitModel.fit(x)'s budget
QUICK_STEPS = 20
EPOCH_BATCH = 64
LAST = {}  # "gan": the last GanInitModel trained (its fell_back, feature_ranks)


@dataclasses.dataclass(frozen=True)
class Budget:
    """Pretraining length: `steps` of `batch_size`, or `epochs` over x."""

    steps: int = DEFAULT_STEPS
    batch_size: int = DEFAULT_BATCH
    epochs: int | None = None

    @classmethod
    def of(cls, quick, epochs=None):
        """The default (or `epochs` over the data); a few steps when quick."""
        if quick:
            return cls(steps=QUICK_STEPS)
        if epochs:
            return cls(batch_size=EPOCH_BATCH, epochs=epochs)
        return cls()


@dataclasses.dataclass(frozen=True)
class Method:
    """`run(build, x, seed, budget) -> extractor`; `group` for the reports:
    "baseline" (peers and ablations), "package" (ours as it ships) or
    "variant"; `autoencoder`: the autoencoder of the same budget."""

    run: functools.partial
    group: str = "variant"
    autoencoder: str = "AE"


def keras_initializer(build, x, seed, budget, initializer):
    """A Keras initializer (None: the layers' own), nothing else."""
    keras.utils.set_random_seed(seed)
    return build(initializer)


def lsuv(build, x, seed, budget):
    """Orthogonal kernels, then `keras_ganinit.lsuv` on x[:SAMPLES]."""
    keras.utils.set_random_seed(seed)
    model = build(keras.initializers.Orthogonal)
    keras_ganinit.lsuv(model, x[:SAMPLES])
    return model


def anyinit(build, x, seed, budget):
    """Orthogonal placeholders, then AnyInit's empirical mode on x[:SAMPLES]."""
    import anyinit as peer

    keras.utils.set_random_seed(seed)
    model = build(keras.initializers.Orthogonal)
    peer.initialize(model, "empirical", x[:SAMPLES], seed=seed)
    return model


def calibration(build, x, seed, budget, **options):
    """Glorot-uniform kernels, then `keras_ganinit.calibrate(**options)`."""
    keras.utils.set_random_seed(seed)
    model = build(keras.initializers.GlorotUniform)
    keras_ganinit.calibrate(model, x[:SAMPLES], **options)
    return model


def corrupted(model, seed, mask=0.0, noise=0.0):
    """`model` behind a Dropout (mask) or GaussianNoise (noise) layer, if asked.

    The mirror skips those layers, so a generator or autoencoder built on the
    result reconstructs the clean input from the corrupted one.
    """
    if not (mask or noise):
        return model
    layer = (
        keras.layers.Dropout(mask, seed=seed)
        if mask
        else keras.layers.GaussianNoise(noise, seed=seed)
    )
    return keras.Sequential([keras.Input(model.inputs[0].shape[1:]), layer, model])


def finish(model, x, rescale):
    """Calibrated as GAN init ends, or only rescaled (`lsuv(center=True)`,
    which keeps the spectrum the pretraining learned)."""
    if rescale:
        keras_ganinit.lsuv(model, x[:SAMPLES], center=True)
    else:
        keras_ganinit.calibrate(model, x[:SAMPLES])


def _autoencoder(build, x, seed, budget, mask=0.0, noise=0.0, rescale=False):
    keras.utils.set_random_seed(seed)
    model = build(keras.initializers.GlorotUniform)
    decoder = keras_ganinit.mirror(model, seed=seed)
    auto = keras.Sequential([corrupted(model, seed, mask, noise), decoder])
    auto.compile(keras.optimizers.Adam(1e-3), "mae")
    if budget.epochs:
        auto.fit(x, x, epochs=budget.epochs, batch_size=budget.batch_size, verbose=0)
    else:  # `steps` batches drawn without repetition, as GanInitModel.fit does
        order = np.random.default_rng(seed).permutation(len(x))
        rows = x[np.resize(order, budget.steps * budget.batch_size)]
        auto.fit(rows, rows, batch_size=budget.batch_size, shuffle=False, verbose=0)
    finish(model, x, rescale)
    return model


def _gan(
    build, x, seed, budget, mask=0.0, noise=0.0, d_lr=None, rescale=False, **kwargs
):
    keras.utils.set_random_seed(seed)
    model = build(keras.initializers.GlorotUniform)
    if rescale:
        kwargs["calibration"] = False
    gan = keras_ganinit.GanInitModel(
        corrupted(model, seed, mask, noise), seed=seed, **kwargs
    )
    if d_lr:  # two time scales: the generator keeps Adam(2e-4, beta_1=0.5)
        gan.compile(
            generator_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
            discriminator_optimizer=keras.optimizers.Adam(d_lr, beta_1=0.5),
        )
    else:
        gan.compile()
    if budget.epochs:
        gan.fit(x, epochs=budget.epochs, batch_size=budget.batch_size, verbose=0)
    else:
        gan.fit(x, steps=budget.steps, batch_size=budget.batch_size, verbose=0)
    if rescale:
        finish(model, x, rescale)
    LAST["gan"] = gan
    return model


def autoencoder(group="baseline", autoencoder=None, **options):
    """The L1 autoencoder with `options` (mask, noise, rescale), as a Method."""
    return Method(
        functools.partial(_autoencoder, **options), group, autoencoder or "AE"
    )


def gan(group="variant", autoencoder="AE", **options):
    """GAN init with `options` (mask, noise, d_lr, rescale, and GanInitModel's
    keyword arguments), as a Method."""
    return Method(functools.partial(_gan, **options), group, autoencoder)


def _keras(name, **kwargs):
    make = getattr(keras.initializers, name)
    return Method(
        functools.partial(
            keras_initializer, initializer=functools.partial(make, **kwargs)
        ),
        "baseline",
    )


METHODS = {
    "Keras default": Method(
        functools.partial(keras_initializer, initializer=None), "baseline"
    ),
    "He": _keras("HeNormal"),
    "Glorot": _keras("GlorotUniform"),
    "LeCun": _keras("LecunNormal"),
    "Orthogonal": _keras("Orthogonal"),
    "RandomNormal(0.02)": _keras("RandomNormal", stddev=0.02),
    "LSUV": Method(functools.partial(lsuv), "baseline"),
    "AnyInit": Method(functools.partial(anyinit), "baseline"),
    "Calibration": Method(functools.partial(calibration), "baseline"),
    "Looks-linear": Method(
        functools.partial(calibration, looks_linear=True), "package"
    ),
    "AE": autoencoder(),
    "DAE mask 0.25": autoencoder(mask=0.25, autoencoder="DAE mask 0.25"),
    "GAN": gan("package"),
    "GAN (paper)": gan(recipe="paper"),
}


def initialize(name, build, x, seed, budget, methods=METHODS):
    """Runs method `name` from `methods`: the initialized extractor."""
    if name not in methods:
        raise KeyError(f"unknown method {name!r}; the methods are {sorted(methods)}")
    return methods[name].run(build, x, seed, budget)
