"""GanInitModel's arguments: the recipes, and the checks on what is passed."""

from typing import Any

import keras

from keras_ganinit._src.pretraining.losses import ADVERSARIAL_LOSSES

RECIPES: dict[str, dict[str, Any]] = {
    # Our form, chosen by the init_quality study (docs/benchmarks/init-quality.md).
    "default": {"reconstruction_weight": 1.0, "calibration": True},
    # The research paper's form: adversarial loss only, kernels as trained.
    "paper": {"reconstruction_weight": 0.0, "calibration": False},
    # The literature's sequence recipes (Dai & Le 2015), without a
    # discriminator: the generator reconstructs its input (a sequence
    # autoencoder), or predicts each next step from the steps so far (a
    # language model's objective, for causal extractors), then calibrates.
    "autoencoder": {
        "reconstruction_weight": 1.0,
        "calibration": True,
        "adversarial": False,
    },
    "next_step": {
        "reconstruction_weight": 1.0,
        "calibration": True,
        "adversarial": False,
        "target": "next_step",
    },
}
_RECIPE_HELP = (
    "'default' is the GAN with reconstruction and calibration (the measured "
    "best for MLP and CNN extractors), 'paper' the research paper's "
    "adversarial-only form, 'autoencoder' reconstruction alone, 'next_step' "
    "next-step prediction for causal sequence extractors"
)


# What compile() refuses: the losses are the GAN's own, with two optimizers.
FIXED_COMPILE_ARGS = (
    "optimizer",
    "loss",
    "loss_weights",
    "metrics",
    "weighted_metrics",
)


def default_optimizer(adversarial=True):
    """Each player's optimizer unless one is passed: DCGAN's Adam, or for a
    generator that plays against no discriminator (the "autoencoder" and
    "next_step" recipes) Keras's own Adam(1e-3), as an autoencoder or a
    language model trains."""
    if not adversarial:
        return keras.optimizers.Adam(learning_rate=1e-3)
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


def check_recipe(recipe):
    """`recipe` if it names one of `RECIPES`, else a ValueError."""
    if not isinstance(recipe, str) or recipe not in RECIPES:
        raise ValueError(
            f"recipe must be one of {sorted(RECIPES)}, but got {recipe!r}. "
            f"{_RECIPE_HELP}."
        )
    return recipe


def check_adversarial_loss(name):
    """`name` if it names one of the generator's adversarial terms."""
    if not isinstance(name, str) or name not in ADVERSARIAL_LOSSES:
        raise ValueError(
            f"adversarial_loss must be one of {list(ADVERSARIAL_LOSSES)}, but "
            f"got {name!r}. 'non_saturating' is the standard GAN loss (the "
            f"default), 'minimax' the GAN value function's log(1 - D(G(x))), "
            f"'feature_matching' matches the discriminator's mean hidden "
            f"features."
        )
    return name


def check_calibration(calibration):
    """`calibration` if it is a bool, else a TypeError."""
    if not isinstance(calibration, bool):
        raise TypeError(
            f"calibration must be True, False or None (the recipe's choice), "
            f"but got {calibration!r}."
        )
    return calibration


def check_decoder(decoder, feature_shape, input_shape, what="its input shape"):
    """Raises unless `decoder` maps `feature_shape` back to `input_shape`."""
    if not isinstance(decoder, keras.Model):
        raise TypeError(
            f"decoder must be a keras.Model mapping the extractor's output "
            f"{feature_shape} back to its input shape {input_shape}, but got "
            f"{type(decoder).__name__}."
        )
    try:
        output = decoder(keras.Input(feature_shape))
    except Exception as error:
        raise ValueError(
            f"The decoder {decoder.name!r} cannot take the extractor's output "
            f"shape {feature_shape}: {error}"
        ) from error
    if tuple(output.shape[1:]) != tuple(input_shape):
        raise ValueError(
            f"The decoder {decoder.name!r} outputs shape {tuple(output.shape[1:])}"
            f", but the generator must give back the extractor's {what} "
            f"{tuple(input_shape)}. Change its last layers, or leave decoder=None "
            f"to use the automatic mirror."
        )
