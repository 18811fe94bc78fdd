"""The GAN losses, in `keras.ops` so every backend shares them."""

from keras import ops


def discriminator_loss(real_logits, fake_logits):
    """Binary cross-entropy of real samples as 1 and generated ones as 0.

    Written with softplus, the stable form of -log(sigmoid(x)): at the GAN's
    equilibrium (the discriminator outputs 1/2 everywhere) it equals 2 ln 2.
    """
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))


def generator_loss(fake_logits, generated, real, reconstruction_weight, features=None):
    """The generator's loss, plus an optional L1 reconstruction term.

    The adversarial term is the non-saturating loss on `fake_logits`, or, when
    `features` is `(real_features, fake_features)` (the discriminator's last
    hidden layer on real and on generated samples), feature matching: the
    mean squared difference of their batch means (Salimans et al., 2016).

    Returns:
        `(loss, reconstruction)`: the loss to minimize and the mean absolute
        error between the generator's output and its input, which is logged
        whatever its weight.
    """
    if features is None:
        adversarial = ops.mean(ops.softplus(-fake_logits))
    else:
        real_features, fake_features = (
            ops.mean(ops.reshape(f, (ops.shape(f)[0], -1)), axis=0) for f in features
        )
        adversarial = ops.mean(ops.square(real_features - fake_features))
    reconstruction = ops.mean(ops.abs(generated - real))
    return adversarial + reconstruction_weight * reconstruction, reconstruction
