"""Shared fixtures: scikit-learn's bundled digits and GANs trained on them once."""

import keras
import pytest
from helpers import dense_extractor
from sklearn.datasets import load_digits

import keras_ganinit


@pytest.fixture(scope="session")
def digits():
    """(x, y): 1797 digits, 64 features scaled to [0, 1], labels 0-9."""
    data = load_digits()
    return (data.data / 16.0).astype("float32"), data.target.astype("int32")


@pytest.fixture(scope="session")
def digit_images(digits):
    """The digits as (1797, 8, 8, 1) images."""
    return digits[0].reshape(-1, 8, 8, 1)


@pytest.fixture(scope="module")
def trained_gan(digits):
    """A dense GanInitModel pretrained for 3 epochs on the digits."""
    keras.utils.set_random_seed(0)
    gan = keras_ganinit.GanInitModel(dense_extractor())
    gan.compile()
    gan.history_ = gan.fit(digits[0], epochs=3, batch_size=64, verbose=0)
    return gan


@pytest.fixture(scope="module")
def saved_gan(trained_gan, tmp_path_factory):
    """The trained dense GAN saved to a .keras file: (path, gan)."""
    path = tmp_path_factory.mktemp("source") / "pretrained.keras"
    trained_gan.save(path)
    return str(path), trained_gan
