"""The parts of a train and test step that every backend shares.

The trainers (trainers/tensorflow.py, jax.py, torch.py) take gradients their
own way; what they take gradients of is computed here, in `keras.ops`.
"""

import keras
from keras import ops

from keras_ganinit._src.pretraining import losses, samples


def _total(extra):
    return ops.sum(ops.stack(extra)) if extra else 0.0


def inputs_of(data):
    """The samples of a batch; labels and sample weights are ignored."""
    x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
    return x


def discriminator_loss(model, x, generated, training):
    """The discriminator's loss on real `x` and `generated` samples.

    Zero for the recipes without a discriminator (nothing is trained).
    """
    if not model.adversarial:
        return ops.zeros((), dtype=generated.dtype)
    form = model.samples
    fake = form.fake(generated, x, form.mask(x))
    real_logits = model.discriminator(form.real(x, fake.dtype), training=training)
    fake_logits = model.discriminator(fake, training=training)
    loss = losses.discriminator_loss(real_logits, fake_logits)
    return loss + _total(model.discriminator.losses)


def generator_loss(model, x, training):
    """(the generator's loss, the reconstruction error) on real `x`."""
    generated = model(x, training=training)
    form = model.samples
    mask = form.mask(x)
    adversarial = 0.0
    if model.adversarial:
        fake = form.fake(generated, x, mask)
        if model.adversarial_loss == "feature_matching":
            features = model._discriminator_features
            adversarial = losses.feature_matching_loss(
                features(form.real(x, fake.dtype), training=training),
                features(fake, training=training),
            )
        else:
            fake_logits = model.discriminator(fake, training=training)
            adversarial = losses.ADVERSARIAL_LOSSES[model.adversarial_loss](fake_logits)
    reconstruction = form.reconstruction(
        *samples.aligned(model.target, generated, x, mask)
    )
    loss = adversarial + model.reconstruction_weight * reconstruction
    extra = model.extractor.losses + model.decoder.losses
    return loss + _total(extra), reconstruction


def count_step(model):
    """Advances `model.optimizer.iterations` by one: one step of both players.

    Each player's own optimizer counts its updates; the optimizer Keras sees
    (`model.optimizer`, which callbacks such as `TensorBoard` read for their
    step axis) is advanced here, once per alternating step. The JAX trainer
    does the same on its state.
    """
    model.optimizer.iterations.assign_add(1)


def record_losses(model, d_loss, g_loss, reconstruction):
    """Updates the model's four loss trackers; returns the logs."""
    values = (d_loss + g_loss, d_loss, g_loss, reconstruction)
    for tracker, value in zip(model.metrics, values, strict=True):
        tracker.update_state(value)
    return {metric.name: metric.result() for metric in model.metrics}
