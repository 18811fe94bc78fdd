"""Shared fixtures: scikit-learn's bundled digits and GANs trained on them once."""

import keras
import numpy as np
import pytest
from keras import layers
from sklearn.datasets import load_digits

import keras_ganinit

# A few steps of a large backbone: TensorFlow's tracing costs more than running
# them eagerly; JAX's eager mode compiles every op, which costs more than one
# jit of the whole step (MobileNetV2 on 2 busy CPUs: 346 s eager, 94 s jit).
EAGER_IS_FASTER = keras.backend.backend() == "tensorflow"


@pytest.fixture(scope="session")
def digits():
    """(x, y): 1797 digits, 64 features scaled to [0, 1], labels 0-9."""
    data = load_digits()
    return (data.data / 16.0).astype("float32"), data.target.astype("int32")


@pytest.fixture(scope="session")
def digit_images(digits):
    """The digits as (1797, 8, 8, 1) images."""
    return digits[0].reshape(-1, 8, 8, 1)


def dense_extractor():
    return keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(128, activation="relu", name="fe1"),
            layers.Dense(32, activation="relu", name="fe2"),
        ],
        name="extractor",
    )


def conv_extractor():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Conv2D(16, 3, activation="relu", name="conv2"),
            layers.Flatten(name="flat"),
            layers.Dense(16, activation="relu", name="fe"),
        ],
        name="conv_extractor",
    )


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


def same(a, b):
    return np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
