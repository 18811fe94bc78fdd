"""The JAX half of GanInitModel's train and test steps.

JAX steps are stateless: variable values come in as `state` and go out
updated. Keras carries `model.optimizer.variables` in that state; GanInitModel's
`optimizer` is a `MultiOptimizer` over the two players' optimizers, so both
players' optimizer state travels with it. The losses are the shared ones in
GanInitModel, run inside a `StatelessScope` that maps each variable to its value.
"""

import jax
from keras import StatelessScope

from keras_ganinit._src.pretraining import steps


def _positions(items, wanted):
    index = {id(item): i for i, item in enumerate(items)}
    return [index[id(item)] for item in wanted]


def _current(scope, variables):
    values = []
    for variable in variables:
        value = scope.get_current_value(variable)
        values.append(variable.value if value is None else value)
    return values


def _player_update(model, player, trainable, non_trainable, optimizer_values, loss_fn):
    """One gradient step of one player; returns (loss, aux, new state parts)."""
    variables = model.trainable_variables
    if player == "discriminator":
        own = model.discriminator.trainable_variables
        optimizer = model.discriminator_optimizer
    else:
        own = model.generator_trainable_variables
        optimizer = model.generator_optimizer
    own_positions = _positions(variables, own)
    optimizer_positions = _positions(model.optimizer.variables, optimizer.variables)

    own_optimizer_values = [optimizer_values[p] for p in optimizer_positions]

    def compute(own_values, trainable, non_trainable):
        trainable = list(trainable)
        for position, value in zip(own_positions, own_values, strict=True):
            trainable[position] = value
        mapping = list(zip(variables, trainable, strict=True)) + list(
            zip(model.non_trainable_variables, non_trainable, strict=True)
        )
        with StatelessScope(state_mapping=mapping) as scope:
            loss, aux = loss_fn()
        non_trainable = _current(scope, model.non_trainable_variables)
        # Scaled by the optimizer (mixed precision's dynamic scale, or
        # loss_scale_factor); stateless_apply unscales the gradients.
        mapping = list(zip(optimizer.variables, own_optimizer_values, strict=True))
        with StatelessScope(state_mapping=mapping):
            scaled = optimizer.scale_loss(loss)
        return scaled, (loss, aux, non_trainable)

    own_values = [trainable[p] for p in own_positions]
    (_, (loss, aux, non_trainable)), grads = jax.value_and_grad(compute, has_aux=True)(
        own_values, trainable, non_trainable
    )
    own_values, own_optimizer_values = optimizer.stateless_apply(
        own_optimizer_values, grads, own_values
    )
    trainable, optimizer_values = list(trainable), list(optimizer_values)
    for position, value in zip(own_positions, own_values, strict=True):
        trainable[position] = value
    for position, value in zip(optimizer_positions, own_optimizer_values, strict=True):
        optimizer_values[position] = value
    return loss, aux, trainable, non_trainable, optimizer_values


def _record(model, metrics_values, d_loss, g_loss, reconstruction):
    mapping = list(zip(model.metrics_variables, metrics_values, strict=True))
    with StatelessScope(state_mapping=mapping) as scope:
        logs = steps.record_losses(model, d_loss, g_loss, reconstruction)
    return logs, _current(scope, model.metrics_variables)


def train_step(model, state, data):
    """One alternating update: the discriminator first, then the generator."""
    trainable, non_trainable, optimizer_values, metrics_values = state
    x = steps.inputs_of(data)

    def discriminator_loss():
        generated = jax.lax.stop_gradient(model(x, training=True))
        return steps.discriminator_loss(model, x, generated, training=True), None

    d_loss = jax.numpy.zeros(())
    if model.adversarial:  # the recipes without a discriminator skip it
        d_loss, _, trainable, non_trainable, optimizer_values = _player_update(
            model,
            "discriminator",
            trainable,
            non_trainable,
            optimizer_values,
            discriminator_loss,
        )
    g_loss, reconstruction, trainable, non_trainable, optimizer_values = _player_update(
        model,
        "generator",
        trainable,
        non_trainable,
        optimizer_values,
        lambda: steps.generator_loss(model, x, training=True),
    )
    # steps.count_step, on the state: one alternating step of both players.
    (position,) = _positions(model.optimizer.variables, [model.optimizer.iterations])
    optimizer_values[position] = optimizer_values[position] + 1
    logs, metrics_values = _record(
        model, metrics_values, d_loss, g_loss, reconstruction
    )
    return logs, (trainable, non_trainable, optimizer_values, metrics_values)


def test_step(model, state, data):
    """Both losses on a batch, without updating anything."""
    trainable, non_trainable, metrics_values = state
    x = steps.inputs_of(data)
    mapping = list(zip(model.trainable_variables, trainable, strict=True)) + list(
        zip(model.non_trainable_variables, non_trainable, strict=True)
    )
    with StatelessScope(state_mapping=mapping):
        d_loss = steps.discriminator_loss(
            model, x, model(x, training=False), training=False
        )
        g_loss, reconstruction = steps.generator_loss(model, x, training=False)
    logs, metrics_values = _record(
        model, metrics_values, d_loss, g_loss, reconstruction
    )
    return logs, (trainable, non_trainable, metrics_values)
