"""Default discriminators, and the check that a user's discriminator fits."""

import keras
from keras import layers


def default_discriminator(input_shape, name="discriminator"):
    """Builds a small discriminator suited to data of `input_shape`.

    (features,) data gets an MLP; (steps, channels), (h, w, channels) and
    (d, h, w, channels) data get a strided Conv1D/2D/3D network: two
    stride-2 convolutions (32 and 64 filters), and one more (128, then 256)
    for each halving it takes to bring the largest spatial size to 16 or
    less, so a 224x224 image is judged from 14x14 features. Each ends in one
    logit per sample.

    Args:
        input_shape: the shape of one sample, without the batch axis.
        name: the model's name.

    Returns:
        A built `keras.Sequential` mapping (batch, *input_shape) to (batch, 1).
    """
    rank = len(input_shape)
    if rank == 1:
        width = int(min(512, max(64, 2 ** (int(input_shape[0]) - 1).bit_length())))
        body = [
            layers.Dense(width),
            layers.LeakyReLU(0.2),
            layers.Dense(width // 2),
            layers.LeakyReLU(0.2),
        ]
    elif rank in (2, 3, 4):
        conv = {2: layers.Conv1D, 3: layers.Conv2D, 4: layers.Conv3D}[rank]
        kernel = 5 if rank == 2 else 3
        body = []
        for filters in _conv_widths(input_shape[:-1]):
            body += [
                conv(filters, kernel, strides=2, padding="same"),
                layers.LeakyReLU(0.2),
            ]
        body.append(layers.Flatten())
    else:
        raise ValueError(
            f"There is no default discriminator for samples of shape "
            f"{tuple(input_shape)} (rank {rank}); defaults exist for vectors "
            f"(features,), sequences (steps, channels), images (h, w, channels) "
            f"and volumes (d, h, w, channels). Pass discriminator= with a model "
            f"that maps a batch of samples to one logit each."
        )
    return keras.Sequential(
        [keras.Input(tuple(input_shape)), *body, layers.Dense(1)], name=name
    )


def _conv_widths(spatial):
    """Filters of each stride-2 convolution for inputs of `spatial` size."""
    widths, size = [32, 64], max(int(d) for d in spatial) / 4
    while size > 16:
        widths.append(min(256, widths[-1] * 2))
        size /= 2
    return widths


def check_discriminator(discriminator, input_shape):
    """Raises a clear error unless `discriminator` maps samples to one logit."""
    if not isinstance(discriminator, keras.Model):
        raise TypeError(
            f"discriminator must be a keras.Model mapping (batch, "
            f"{', '.join(map(str, input_shape))}) to (batch, 1) logits, but got "
            f"{type(discriminator).__name__}."
        )
    try:
        output = discriminator(keras.Input(tuple(input_shape)))
    except Exception as error:
        raise ValueError(
            f"The discriminator {discriminator.name!r} cannot take a batch of "
            f"samples of shape {tuple(input_shape)} (the extractor's input "
            f"shape): {error}"
        ) from error
    shape = tuple(getattr(output, "shape", ()))
    if shape[1:] not in ((1,), ()):
        raise ValueError(
            f"The discriminator {discriminator.name!r} outputs shape {shape}, "
            f"but it must output one logit per sample: (batch, 1). End it with "
            f"layers.Dense(1) and no activation (the GAN loss applies the "
            f"sigmoid itself)."
        )


def feature_model(discriminator):
    """The discriminator up to its last layer: the features feature matching uses.

    Shares the discriminator's layers and variables.
    """
    try:
        features = discriminator.layers[-1].input
        model = keras.Model(discriminator.inputs[0], features)
    except Exception as error:
        raise ValueError(
            f"adversarial_loss='feature_matching' compares the discriminator's "
            f"last hidden features on real and generated samples, but the "
            f"input of the last layer of {discriminator.name!r} could not be "
            f"reached ({error}). "
            f"Pass a keras.Sequential or functional discriminator that ends in "
            f"its logit layer, or adversarial_loss='non_saturating'."
        ) from error
    if len(model.layers) < 2:
        raise ValueError(
            f"adversarial_loss='feature_matching' needs a hidden layer before "
            f"the discriminator {discriminator.name!r}'s logit layer, but its "
            f"last layer takes the samples themselves. Add a hidden layer, or pass "
            f"adversarial_loss='non_saturating'."
        )
    return model
