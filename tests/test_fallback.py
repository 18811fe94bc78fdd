"""Do no harm: fit keeps the calibrated start when pretraining collapses features."""

import keras
import numpy as np
import pytest
from keras import layers

import keras_ganinit

_np = keras.ops.convert_to_numpy


def deep_relu_cnn():
    # The benchmark's deepcnn: 10 same-padded 16-channel ReLU convolutions.
    # 200 steps of pretraining narrow its features to a fifth of their
    # effective rank, and SGD then starts far behind calibration alone
    # (docs/pretraining.md, "Do no harm").
    return keras.Sequential(
        [keras.Input((64,)), layers.Reshape((8, 8, 1))]
        + [
            layers.Conv2D(16, 3, padding="same", activation="relu", name=f"h{i}")
            for i in range(10)
        ]
        + [layers.Flatten()],
        name="deepcnn",
    )


@pytest.mark.large  # 200 steps of a 10-layer CNN: run once, on TensorFlow
def test_collapsed_features_fall_back_to_the_calibrated_start(digits):
    x = digits[0]
    keras.utils.set_random_seed(0)
    start = deep_relu_cnn()
    weights = start.get_weights()
    keras_ganinit.calibrate(start, x[:512], samples=None)

    extractor = deep_relu_cnn()
    extractor.set_weights(weights)
    gan = keras_ganinit.GanInitModel(extractor, seed=0)
    gan.compile()
    with pytest.warns(UserWarning, match="collapsed the extractor's features"):
        gan.fit(x, verbose=0)
    assert gan.fell_back is True and gan.calibrated is True
    pretrained, calibrated = gan.feature_ranks
    assert pretrained < 0.5 * calibrated
    for kept, wanted in zip(extractor.weights, start.weights, strict=True):
        np.testing.assert_allclose(_np(kept), _np(wanted), rtol=1e-4, atol=1e-5)


def test_healthy_pretraining_is_kept(trained_gan, digits):
    gan = keras_ganinit.GanInitModel(trained_gan.extractor, seed=0)
    gan.compile()
    gan.fit(digits[0], steps=20, verbose=0)
    assert gan.fell_back is False
    pretrained, calibrated = gan.feature_ranks
    assert pretrained > 0.5 * calibrated
    # fallback=False: no check, and the config says so.
    unchecked = keras_ganinit.GanInitModel(trained_gan.extractor, fallback=False)
    unchecked.compile()
    unchecked.fit(digits[0], steps=2, verbose=0)
    assert unchecked.fell_back is None and unchecked.feature_ranks is None
    assert unchecked.get_config()["fallback"] is False
    with pytest.raises(TypeError, match="fallback must be True or False"):
        keras_ganinit.GanInitModel(trained_gan.extractor, fallback="yes")
