"""The TensorFlow half of GanInitModel's train and test steps.

Everything shared by the backends (losses, which networks run, metrics) is in
`steps`; this module holds only what TensorFlow does differently:
taking gradients with `tf.GradientTape`. Each player's loss is scaled by its
optimizer (`scale_loss`: a `LossScaleOptimizer`'s dynamic scale under
mixed precision, or `loss_scale_factor`) and `apply` unscales the gradients.
"""

import tensorflow as tf

from keras_ganinit._src.pretraining import steps


def _for_gradients(loss):
    """Divides by the replica count: replicas' gradients are summed, not averaged."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


def train_step(model, data):
    """One alternating update: the discriminator first, then the generator."""
    x = steps.inputs_of(data)
    d_loss = tf.zeros(())
    if model.adversarial:  # the recipes without a discriminator skip it
        generated = model(x, training=True)
        with tf.GradientTape() as tape:
            d_loss = steps.discriminator_loss(model, x, generated, training=True)
            scaled = _for_gradients(model.discriminator_optimizer.scale_loss(d_loss))
        variables = model.discriminator.trainable_variables
        gradients = tape.gradient(scaled, variables)
        model.discriminator_optimizer.apply(gradients, variables)

    with tf.GradientTape() as tape:
        g_loss, reconstruction = steps.generator_loss(model, x, training=True)
        scaled = _for_gradients(model.generator_optimizer.scale_loss(g_loss))
    variables = model.generator_trainable_variables
    gradients = tape.gradient(scaled, variables)
    model.generator_optimizer.apply(gradients, variables)
    steps.count_step(model)
    return steps.record_losses(model, d_loss, g_loss, reconstruction)


def test_step(model, data):
    """Both losses on a batch, without updating anything."""
    x = steps.inputs_of(data)
    d_loss = steps.discriminator_loss(
        model, x, model(x, training=False), training=False
    )
    g_loss, reconstruction = steps.generator_loss(model, x, training=False)
    return steps.record_losses(model, d_loss, g_loss, reconstruction)
