"""Default discriminators fit the data's shape; a user's wrong one is refused."""

import keras
import numpy as np
import pytest
from helpers import dense_extractor
from keras import layers

import keras_ganinit


def extractor_for(shape):
    """A one-Dense extractor of samples of `shape` (it acts on the last axis)."""
    return keras.Sequential([keras.Input(shape), layers.Dense(4, name="fe")])


def default_discriminator(shape):
    return keras_ganinit.GanInitModel(extractor_for(shape)).discriminator


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
    assert model.input_shape == (None, *shape)
    assert model.output_shape == (None, 1)
    assert model.layers[-1].activation is keras.activations.linear


def test_no_default_for_rank_five_samples():
    shape = (2, 3, 4, 5, 6)
    refused = "no default discriminator.*Pass discriminator="
    with pytest.raises(ValueError, match=refused):
        default_discriminator(shape)
    # The extractor itself is fine: a discriminator passed in is taken.
    own = keras.Sequential([keras.Input(shape), layers.Flatten(), layers.Dense(1)])
    gan = keras_ganinit.GanInitModel(extractor_for(shape), discriminator=own)
    assert gan.discriminator is own


def test_a_user_discriminator_without_a_logit_output_is_refused():
    wrong = keras.Sequential([layers.Dense(4)])
    with pytest.raises(ValueError, match=r"outputs shape \(None, 4\).*Dense\(1\)"):
        keras_ganinit.GanInitModel(dense_extractor(), discriminator=wrong)
    with pytest.raises(TypeError, match="discriminator must be a keras.Model"):
        keras_ganinit.GanInitModel(dense_extractor(), discriminator=layers.Dense(1))
    right = keras.Sequential([layers.Dense(1)])
    gan = keras_ganinit.GanInitModel(dense_extractor(), discriminator=right)
    assert gan.discriminator is right


@pytest.mark.parametrize("size, convs", [(8, 2), (32, 2), (40, 2), (64, 2), (224, 4)])
def test_image_discriminators_shrink_large_images_to_at_most_16_pixels(size, convs):
    model = default_discriminator((size, size, 3))
    conv_layers = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    assert len(conv_layers) == convs
    assert max(conv_layers[-1].output.shape[1:3]) <= 16
    assert model.count_params() < 1_000_000
    logits = model(np.random.default_rng(0).uniform(size=(2, size, size, 3)))
    assert tuple(logits.shape) == (2, 1)
