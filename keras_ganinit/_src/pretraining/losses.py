"""The GAN losses, in `keras.ops` so every backend shares them."""

from keras import ops


def discriminator_loss(real_logits, fake_logits):
    """Binary cross-entropy of real samples as 1 and generated ones as 0.

    Written with softplus, the stable form of -log(sigmoid(x)): at the GAN's
    equilibrium (the discriminator outputs 1/2 everywhere) it equals 2 ln 2.
    """
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))


def non_saturating_loss(fake_logits):
    """-log D(G(x)): the generator's loss the GAN paper trains with."""
    return ops.mean(ops.softplus(-fake_logits))


def minimax_loss(fake_logits):
    """log(1 - D(G(x))): the generator's side of the GAN value function.

    It saturates: while the discriminator rejects generated samples with
    confidence, its gradient vanishes.
    """
    return -ops.mean(ops.softplus(fake_logits))


def feature_matching_loss(real_features, fake_features):
    """The mean squared difference of the batch means of two feature batches.

    Salimans et al. (2016): the discriminator's last hidden layer on real and
    on generated samples.
    """
    real_mean, fake_mean = (
        ops.mean(ops.reshape(f, (ops.shape(f)[0], -1)), axis=0)
        for f in (real_features, fake_features)
    )
    return ops.mean(ops.square(real_mean - fake_mean))


# The generator's adversarial terms, by the name GanInitModel takes. Feature
# matching reads the discriminator's hidden features, not its logits.
ADVERSARIAL_LOSSES = {
    "non_saturating": non_saturating_loss,
    "minimax": minimax_loss,
    "feature_matching": feature_matching_loss,
}
