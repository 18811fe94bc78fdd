"""The GAN losses, in `keras.ops` so every backend shares them."""

from keras import ops


def discriminator_loss(real_logits, fake_logits):
    """Binary cross-entropy of real samples as 1 and generated ones as 0.

    Written with softplus, the stable form of -log(sigmoid(x)): at the GAN's
    equilibrium (the discriminator outputs 1/2 everywhere) it equals 2 ln 2.
    """
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))


def generator_loss(fake_logits, generated, real, reconstruction_weight):
    """The non-saturating generator loss, plus an optional L1 reconstruction term.

    Returns:
        `(loss, reconstruction)`: the loss to minimize and the mean absolute
        error between the generator's output and its input, which is logged
        whatever its weight.
    """
    adversarial = ops.mean(ops.softplus(-fake_logits))
    reconstruction = ops.mean(ops.abs(generated - real))
    return adversarial + reconstruction_weight * reconstruction, reconstruction
