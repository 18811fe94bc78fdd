"""Shared fixtures: scikit-learn's bundled digits and GANs trained on them once.

Tests marked `large` (subprocesses, whole examples, keras.applications
backbones, multi-process runs) are skipped unless pytest runs with
`--run-large`, as keras-hub does; .ci/run runs them once, on one backend.
"""

import os

import keras
import pytest
from helpers import dense_extractor
from sklearn.datasets import load_digits

import keras_ganinit


def pytest_addoption(parser):
    parser.addoption(
        "--run-large",
        action="store_true",
        help="also run the tests marked large (minutes each on 2 CPUs)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "large: a slow end-to-end test, run only with --run-large"
    )
    if config.getoption("--run-large"):
        # Read by test modules at import (test_properties draws every example).
        os.environ["KERAS_GANINIT_RUN_LARGE"] = "1"


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-large"):
        return
    skip = pytest.mark.skip(reason="large: run with --run-large")
    for item in items:
        if "large" in item.keywords:
            item.add_marker(skip)


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


@pytest.fixture(scope="module")
def standardized(digits):
    """256 digits with every pixel at zero mean and unit std."""
    x = digits[0]
    return ((x - x.mean(0)) / (x.std(0) + 1e-3)).astype("float32")[:256]
