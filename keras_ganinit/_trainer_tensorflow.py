"""The TensorFlow half of GanInitModel's train and test steps.

Everything shared by the backends (losses, which networks run, metrics) is in
GanInitModel itself; this module holds only what TensorFlow does differently:
taking gradients with `tf.GradientTape`. Each player's loss is scaled by its
optimizer (`scale_loss`: a `LossScaleOptimizer`'s dynamic scale under
mixed precision, or `loss_scale_factor`) and `apply` unscales the gradients.
"""

import tensorflow as tf


def _for_gradients(loss):
    """Divides by the replica count: replicas' gradients are summed, not averaged."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


def train_step(model, data):
    """One alternating update: the discriminator first, then the generator."""
    x = model._inputs_from(data)
    generated = model(x, training=True)
    with tf.GradientTape() as tape:
        d_loss = model._discriminator_loss(x, generated, training=True)
        scaled = _for_gradients(model.discriminator_optimizer.scale_loss(d_loss))
    variables = model.discriminator.trainable_variables
    gradients = tape.gradient(scaled, variables)
    model.discriminator_optimizer.apply(gradients, variables)

    with tf.GradientTape() as tape:
        g_loss, reconstruction = model._generator_loss(x, training=True)
        scaled = _for_gradients(model.generator_optimizer.scale_loss(g_loss))
    variables = model.generator_trainable_variables
    gradients = tape.gradient(scaled, variables)
    model.generator_optimizer.apply(gradients, variables)
    return model._record_losses(d_loss, g_loss, reconstruction)


def test_step(model, data):
    """Both losses on a batch, without updating anything."""
    x = model._inputs_from(data)
    d_loss = model._discriminator_loss(x, model(x, training=False), training=False)
    g_loss, reconstruction = model._generator_loss(x, training=False)
    return model._record_losses(d_loss, g_loss, reconstruction)
