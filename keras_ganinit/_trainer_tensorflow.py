"""The TensorFlow half of GanInitModel's train and test steps.

Everything shared by the backends (losses, which networks run, metrics) is in
GanInitModel itself; this module holds only what TensorFlow does differently:
taking gradients with `tf.GradientTape`.
"""

import tensorflow as tf


def train_step(model, data):
    """One alternating update: the discriminator first, then the generator."""
    x = model._inputs_from(data)
    generated = model._generate(x, training=True)
    with tf.GradientTape() as tape:
        d_loss = model._discriminator_loss(x, generated, training=True)
    variables = model.discriminator.trainable_variables
    model.discriminator_optimizer.apply(tape.gradient(d_loss, variables), variables)

    with tf.GradientTape() as tape:
        g_loss, reconstruction = model._generator_loss(x, training=True)
    variables = model.generator_trainable_variables
    model.generator_optimizer.apply(tape.gradient(g_loss, variables), variables)
    return model._record_losses(d_loss, g_loss, reconstruction)


def test_step(model, data):
    """Both losses on a batch, without updating anything."""
    x = model._inputs_from(data)
    d_loss = model._discriminator_loss(x, model(x, training=False), training=False)
    g_loss, reconstruction = model._generator_loss(x, training=False)
    return model._record_losses(d_loss, g_loss, reconstruction)
