"""callbacks.Reconstructions: what the generator makes of real data, each epoch."""

import os

import keras
import matplotlib.image
import numpy as np
import pytest
from helpers import conv_extractor, dense_extractor
from keras import layers

import keras_ganinit
from keras_ganinit.callbacks import Reconstructions


def gan(extractor):
    model = keras_ganinit.GanInitModel(extractor, calibration=False, seed=0)
    model.compile()
    return model


def names(callback):
    return [os.path.basename(path) for path in callback.written]


def test_vectors_are_drawn_as_lines_or_as_images_every_epoch(digits, tmp_path):
    x = digits[0][:256]
    lines = Reconstructions(x[:5], tmp_path / "lines")
    images = Reconstructions(x[:5], tmp_path / "images", image_shape=(8, 8))
    gan(dense_extractor()).fit(
        x, batch_size=64, epochs=2, verbose=0, callbacks=[lines, images]
    )
    expected = ["reconstructions_epoch_001.png", "reconstructions_epoch_002.png"]
    assert names(lines) == names(images) == expected
    assert sorted(os.listdir(tmp_path / "lines")) == expected
    line_png = matplotlib.image.imread(lines.written[0])
    image_png = matplotlib.image.imread(images.written[0])
    # 5 line panels (4 columns, 2 rows) against 2 rows of 5 square images.
    assert line_png.shape[1] > line_png.shape[0] and image_png.shape[1] > 0
    assert line_png.shape != image_png.shape
    assert line_png.std() > 0.01 and image_png.std() > 0.01  # not blank


def test_images_every_second_epoch_and_the_last_one(digit_images, tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    (folder / "mine.txt").write_text("kept")
    pictures = Reconstructions(digit_images[:4], folder, every=2)
    gan(conv_extractor()).fit(
        digit_images[:128], batch_size=64, epochs=3, verbose=0, callbacks=[pictures]
    )
    assert names(pictures) == [
        "reconstructions_epoch_002.png",
        "reconstructions_epoch_003.png",  # the last epoch, at the end of fit
    ]
    assert (folder / "mine.txt").read_text() == "kept"
    picture = matplotlib.image.imread(pictures.written[0])
    assert picture.shape[1] > picture.shape[0]  # 4 columns, 2 rows


def test_sequences_and_tensorboard_images(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    rng = np.random.default_rng(0)
    x = np.sin(np.linspace(0, 6, 32))[None, :, None] * rng.uniform(
        0.5, 1.5, size=(96, 1, 2)
    )
    x = x.astype("float32")
    extractor = keras.Sequential(
        [
            keras.Input((32, 2)),
            layers.Conv1D(4, 3, padding="same", activation="relu", name="c1"),
            layers.Flatten(),
            layers.Dense(8, name="fe"),
        ]
    )
    logs = tmp_path / "logs"
    pictures = Reconstructions(x[:3], tmp_path / "png", log_dir=logs)
    gan(extractor).fit(x, batch_size=32, epochs=1, verbose=0, callbacks=[pictures])
    assert names(pictures) == ["reconstructions_epoch_001.png"]
    events = EventAccumulator(str(logs), size_guidance={"images": 0})
    events.Reload()
    tags = events.Tags()
    found = tags.get("images", []) + tags.get("tensors", [])
    assert "reconstructions" in found


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"x_samples": "x"}, TypeError, "NumPy array or a tensor"),
        ({"x_samples": np.zeros((0, 64))}, ValueError, "at least one sample"),
        ({"x_samples": np.full((2, 64), np.nan)}, ValueError, "non-finite"),
        ({"every": 0}, ValueError, "every must be an integer >= 1"),
        ({"image_shape": (7, 7)}, ValueError, "holds 49 values"),
    ],
)
def test_bad_arguments_are_explained(tmp_path, kwargs, error, words):
    arguments = {"x_samples": np.ones((2, 64), "float32"), "directory": tmp_path}
    arguments.update(kwargs)
    with pytest.raises(error, match=words):
        Reconstructions(**arguments)


def test_wrong_model_or_shape_is_explained(digits, tmp_path):
    model = keras.Sequential([keras.Input((64,)), layers.Dense(2)])
    model.compile("adam", "mse")
    with pytest.raises(TypeError, match="meant for GanInitModel.fit"):
        model.fit(
            digits[0][:8],
            np.zeros((8, 2)),
            verbose=0,
            callbacks=[Reconstructions(digits[0][:2], tmp_path)],
        )
    with pytest.raises(ValueError, match="takes"):
        gan(dense_extractor()).fit(
            digits[0][:64],
            epochs=1,
            verbose=0,
            callbacks=[Reconstructions(np.ones((2, 32), "float32"), tmp_path)],
        )
