"""keras_ganinit.detach(): a started model's config names Keras only."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import conv_extractor
from keras import layers

import keras_ganinit

_np = keras.ops.convert_to_numpy


def classifier(source):
    started = keras_ganinit.with_pretrained_initializers(conv_extractor(), source)
    model = keras.Sequential([started, layers.Dense(3, name="head")])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def test_the_config_names_keras_only_and_the_weights_stay(digit_images, tmp_path):
    source = conv_extractor()
    model = classifier(source)
    x, y = digit_images[:64], np.arange(64) % 3
    model.fit(x, y, epochs=1, verbose=0)
    before = [np.array(_np(w)) for w in model.weights]
    assert "keras_ganinit" in json.dumps(model.get_config())
    assert keras_ganinit.detach(model) is model
    text = json.dumps(model.get_config())
    assert "keras_ganinit" not in text and "GanPretrainedInitializer" not in text
    conv1 = model.layers[0].get_layer("conv1")
    assert type(conv1.kernel_initializer).__name__ == "GlorotUniform"
    assert type(conv1.bias_initializer).__name__ == "Zeros"
    for old, new in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(old, _np(new))
    # Still compiled, optimizer state kept: training goes on.
    iterations = int(_np(model.optimizer.iterations))
    model.fit(x, y, epochs=1, verbose=0)
    assert int(_np(model.optimizer.iterations)) > iterations
    path = tmp_path / "detached.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(_np(loaded(x[:4])), _np(model(x[:4])), rtol=1e-6)


@pytest.mark.large
def test_a_detached_model_loads_where_keras_ganinit_is_not_imported(
    digit_images, tmp_path
):
    model = classifier(conv_extractor())
    kept, detached = tmp_path / "kept.keras", tmp_path / "detached.keras"
    model.save(kept)
    keras_ganinit.detach(model).save(detached)
    script = (
        "import sys, keras\n"
        "keras.saving.load_model(sys.argv[1])\n"
        "assert 'keras_ganinit' not in sys.modules\n"
    )
    for path, loads in ((detached, True), (kept, False)):
        done = subprocess.run(
            [sys.executable, "-c", script, str(path)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert (done.returncode == 0) == loads, done.stderr[-2000:]


def test_detach_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match="takes a keras.Model"):
        keras_ganinit.detach("model.keras")
