"""plot_filters(): the first convolution's filters as pictures."""

import keras
import matplotlib.image
import pytest
from helpers import conv_extractor, dense_extractor
from keras import layers

import keras_ganinit


def gan(extractor):
    model = keras_ganinit.GanInitModel(extractor, calibration=False, seed=0)
    model.compile()
    return model


def test_plot_filters_draws_one_tile_per_filter(tmp_path):
    figure = keras_ganinit.plot_filters(conv_extractor(), path=tmp_path / "filters.png")
    assert len(figure.axes) == 8  # conv1: 8 filters
    assert matplotlib.image.imread(tmp_path / "filters.png").std() > 0.01
    assert len(keras_ganinit.plot_filters(conv_extractor(), "conv2").axes) == 16
    assert len(keras_ganinit.plot_filters(conv_extractor(), max_filters=3).axes) == 3
    gan_model = gan(conv_extractor())
    assert len(keras_ganinit.plot_filters(gan_model).axes) == 8  # its extractor

    rgb = keras.Sequential([keras.Input((8, 8, 3)), layers.Conv2D(5, 3)])
    assert len(keras_ganinit.plot_filters(rgb).axes) == 5
    sequence = keras.Sequential([keras.Input((16, 2)), layers.Conv1D(4, 5)])
    figure = keras_ganinit.plot_filters(sequence)
    assert len(figure.axes) == 4 and len(figure.axes[0].lines) == 2


def test_plot_filters_explains_what_it_cannot_draw():
    with pytest.raises(ValueError, match="no Conv1D or Conv2D layer"):
        keras_ganinit.plot_filters(dense_extractor())
    with pytest.raises(ValueError, match="is a MaxPooling2D, not a Conv1D"):
        keras_ganinit.plot_filters(conv_extractor(), "pool")
    with pytest.raises(ValueError, match="no layer named 'nope'.*conv1"):
        keras_ganinit.plot_filters(conv_extractor(), "nope")
    with pytest.raises(TypeError, match="a Keras model or a GanInitModel"):
        keras_ganinit.plot_filters("model.keras")
