"""The one `optimizer` Keras sees, routing each variable to its player's.

GanInitModel's train steps use the two players' optimizers directly. Keras's
own machinery (JAX's stateless state, saving, distribution, finalizing
variables at the end of `fit`) sees one `model.optimizer`: a `MultiOptimizer`
that maps each discriminator variable to the discriminator's optimizer and
every other one to the generator's. Under mixed precision each player is a
`LossScaleOptimizer` with its own dynamic scale; a `MultiOptimizer` cannot
hold one, so it holds the inner optimizers and lists the scales' variables
among its own, which JAX's state and saving then carry.
"""

import keras

LossScaleOptimizer = keras.optimizers.LossScaleOptimizer


def uses_mixed_float16(*models):
    """Whether any of `models` computes in float16 with float32 variables."""
    return any(
        getattr(getattr(model, "dtype_policy", None), "name", None) == "mixed_float16"
        for model in models
    )


def loss_scaled(optimizer):
    """`optimizer` wrapped in a `LossScaleOptimizer`, unless it is one."""
    if isinstance(optimizer, LossScaleOptimizer):
        return optimizer
    return LossScaleOptimizer(optimizer, name=f"loss_scaled_{optimizer.name}")


def _inner(optimizer):
    return getattr(optimizer, "inner_optimizer", optimizer)


def _scale_variables(optimizer):
    """A LossScaleOptimizer's own variables (its scale and step counter)."""
    if not isinstance(optimizer, LossScaleOptimizer):
        return []
    inner = {id(v) for v in optimizer.inner_optimizer.variables}
    return [v for v in optimizer.variables if id(v) not in inner]


class Players(keras.optimizers.MultiOptimizer):
    """A `MultiOptimizer` over the generator's and discriminator's optimizers.

    Args:
        generator: the generator's optimizer (the default for every variable).
        discriminator: the discriminator's optimizer.
        discriminator_paths: the paths of the discriminator's variables.
    """

    def __init__(self, generator, discriminator, discriminator_paths):
        inner = [_inner(generator), _inner(discriminator)]
        factors = [optimizer.loss_scale_factor for optimizer in inner]
        super().__init__(
            keras.optimizers.OptimizerMap(
                inner[0], {path: inner[1] for path in discriminator_paths}
            ),
            name="gan_players",
        )
        # MultiOptimizer sets its own (None) on the optimizers it holds; the
        # train steps scale each player's loss with the player's own factor.
        for optimizer, factor in zip(inner, factors, strict=True):
            optimizer.loss_scale_factor = factor
        self._scales = _scale_variables(generator) + _scale_variables(discriminator)

    @property
    def variables(self):
        # Keras's tracking may already list the scales among this optimizer's
        # own variables; each is listed once (JAX cannot take one twice).
        variables = super().variables
        listed = {id(v) for v in variables}
        return variables + [
            v for v in getattr(self, "_scales", []) if id(v) not in listed
        ]
