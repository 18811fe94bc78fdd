"""Default discriminators fit the data's shape; a user's wrong one is refused."""

import keras
import numpy as np
import pytest
from keras import layers

from keras_ganinit._discriminator import check_discriminator, default_discriminator


@pytest.mark.parametrize(
    "shape, first_layer",
    [
        ((64,), "Dense"),
        ((40, 1), "Conv1D"),
        ((8, 8, 1), "Conv2D"),
        ((4, 6, 6, 2), "Conv3D"),
    ],
)
def test_default_discriminator_gives_one_logit_per_sample(shape, first_layer):
    model = default_discriminator(shape)
    assert type(model.layers[0]).__name__ == first_layer
    assert model.output_shape == (None, 1)
    assert model.layers[-1].activation is keras.activations.linear


def test_no_default_for_rank_five_samples():
    with pytest.raises(ValueError, match="Pass discriminator="):
        default_discriminator((2, 3, 4, 5, 6))


def test_a_user_discriminator_without_a_logit_output_is_refused():
    wrong = keras.Sequential([layers.Dense(4)])
    with pytest.raises(ValueError, match=r"outputs shape \(None, 4\).*Dense\(1\)"):
        check_discriminator(wrong, (64,))
    with pytest.raises(TypeError, match="must be a keras.Model"):
        check_discriminator(layers.Dense(1), (64,))
    check_discriminator(keras.Sequential([layers.Dense(1)]), (64,))


@pytest.mark.parametrize("size, convs", [(8, 2), (32, 2), (40, 2), (64, 2), (224, 4)])
def test_image_discriminators_shrink_large_images_to_at_most_16_pixels(size, convs):
    model = default_discriminator((size, size, 3))
    conv_layers = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    assert len(conv_layers) == convs
    assert max(conv_layers[-1].output.shape[1:3]) <= 16
    assert model.count_params() < 1_000_000
    logits = model(np.random.default_rng(0).uniform(size=(2, size, size, 3)))
    assert tuple(logits.shape) == (2, 1)
