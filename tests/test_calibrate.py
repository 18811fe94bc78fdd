"""keras_ganinit.calibrate(): one call, any model, all or nothing, with a report."""

import keras
import numpy as np
import pytest
from helpers import conv_extractor, dense_extractor, layer_outputs
from keras import layers

import keras_ganinit

_np = keras.ops.convert_to_numpy


def weights_of(model):
    return [np.array(_np(v)) for v in model.weights]


def classifier(activation="tanh"):
    return keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(48, activation=activation, name="hidden1"),
            layers.Dense(32, activation="relu", name="hidden2"),
            layers.Dense(10, activation="softmax", name="head"),
        ],
        name="classifier",
    )


def test_each_layer_gets_its_target_and_the_head_is_left_alone(digits):
    keras.utils.set_random_seed(0)
    x = digits[0]
    model = classifier()
    head_before = [np.array(_np(w)) for w in model.get_layer("head").weights]
    report = keras_ganinit.calibrate(model, x, exclude="head")
    assert isinstance(report, keras_ganinit.CalibrationReport)
    assert report.layers == ["hidden1", "hidden2"] and report.samples == 512
    # tanh gets 0.5, ReLU 1: measured again here on the same 512 samples.
    outputs = layer_outputs(model, x[:512])
    hidden1 = np.arctanh(np.clip(outputs["hidden1"], -0.999999, 0.999999))
    assert abs(hidden1.std(axis=0).mean() - 0.5) < 0.05
    rows = {r["layer"]: r for r in report.rows}
    assert rows["hidden1"]["target_std"] == 0.5 and rows["hidden2"]["target_std"] == 1
    for name in ("hidden1", "hidden2"):
        assert abs(rows[name]["std_after"] - rows[name]["target_std"]) < 0.03
        assert abs(rows[name]["mean_after"]) < 0.01
    assert rows["head"]["target_std"] is None
    for before, after in zip(head_before, model.get_layer("head").weights, strict=True):
        np.testing.assert_array_equal(before, _np(after))
    # The kernels are orthogonal directions, rescaled.
    kernel = _np(model.get_layer("hidden1").kernel).astype("float64")
    singular = np.linalg.svd(kernel, compute_uv=False)
    assert singular.max() / singular.min() < 1.0001
    text = str(report)
    assert "calibrate() changed 2 layers of 'classifier' on 512 samples" in text
    assert "left as it was" in text and "std before" in text
    assert repr(report).startswith("<CalibrationReport of 'classifier'")


def test_targets_by_number_and_by_function_and_a_gan_means_its_extractor(digits):
    x = digits[0][:300]
    model = classifier()
    report = keras_ganinit.calibrate(model, x, target_std=2.0, samples=None)
    assert report.samples == 300
    assert {r["target_std"] for r in report.rows} == {2.0}
    report = keras_ganinit.calibrate(
        model, x, target_std=lambda layer: 0.25 if layer.name == "head" else 1.0
    )
    assert [r["target_std"] for r in report.rows] == [1.0, 1.0, 0.25]
    assert abs(report.rows[-1]["std_after"] - 0.25) < 0.01
    gan = keras_ganinit.GanInitModel(dense_extractor(), seed=0)
    report = keras_ganinit.calibrate(gan, x, exclude=lambda layer: False)
    assert report.model_name == "extractor" and report.layers == ["fe1", "fe2"]


def test_datasets_and_images_are_calibrated_too(digit_images):
    import tensorflow as tf

    model = conv_extractor()
    data = tf.data.Dataset.from_tensor_slices(digit_images).batch(100)
    report = keras_ganinit.calibrate(model, data)
    assert report.samples == 512
    assert report.layers == ["conv1", "conv2", "fe"]
    for row in report.rows:
        assert abs(row["std_after"] - 1.0) < 0.03


def test_a_layer_that_cannot_be_calibrated_changes_no_weight(digits):
    x = digits[0][:256]
    # hidden2 sees only zeros, after hidden1 has been calibrated already.
    model = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(48, activation="relu", name="hidden1"),
            layers.Rescaling(0.0, name="silence"),
            layers.Dense(32, activation="relu", name="hidden2"),
        ]
    )
    before = weights_of(model)
    with pytest.raises(ValueError, match="'hidden2' outputs a constant.*No weight"):
        keras_ganinit.calibrate(model, x)
    for old, new in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(old, _np(new))


def test_bad_input_is_explained_before_anything_changes(digits):
    x = digits[0][:64].copy()
    model = classifier()
    before = weights_of(model)
    x[3, 5] = np.nan
    with pytest.raises(ValueError, match=r"x holds 1 non-finite.*calibrate\(\)"):
        keras_ganinit.calibrate(model, x)
    with pytest.raises(ValueError, match="at least 2"):
        keras_ganinit.calibrate(model, digits[0][:1])
    with pytest.raises(ValueError, match=r"exclude= names \['nope'\].*hidden1"):
        keras_ganinit.calibrate(model, digits[0], exclude=["nope"])
    with pytest.raises(ValueError, match="target_std must be"):
        keras_ganinit.calibrate(model, digits[0], target_std=-1)
    with pytest.raises(ValueError, match="samples must be an integer >= 1"):
        keras_ganinit.calibrate(model, digits[0], samples=0)
    with pytest.raises(TypeError, match="built keras.Model"):
        keras_ganinit.calibrate("model.keras", digits[0])
    with pytest.raises(TypeError, match="NumPy array or tensor"):
        keras_ganinit.calibrate(model, {"x": 1})
    flat = keras.Sequential([keras.Input((64,)), layers.Activation("relu")])
    with pytest.raises(ValueError, match=r"no layer that calibrate\(\) calibrates"):
        keras_ganinit.calibrate(flat, digits[0])
    for old, new in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(old, _np(new))


def test_gan_calibrated_says_whether_fit_calibrated(digits):
    x = digits[0][:256]
    gan = keras_ganinit.GanInitModel(dense_extractor(), seed=0)
    assert gan.calibrated is None
    gan.compile()
    gan.fit(x, steps=2, verbose=0)
    assert gan.calibrated is True
    paper = keras_ganinit.GanInitModel(dense_extractor(), recipe="paper", seed=0)
    paper.compile()
    paper.fit(x, steps=2, verbose=0)
    assert paper.calibrated is False
    assert paper.calibrate(x) is paper and paper.calibrated is True


def test_unscaled_data_get_one_warning(digits, recwarn):
    pixels = (digits[0][:256] * 255).astype("uint8")
    with pytest.warns(UserWarning, match="uint8 values: the data look unscaled"):
        keras_ganinit.calibrate(classifier(), pixels)
    gan = keras_ganinit.GanInitModel(dense_extractor(), seed=0)
    gan.compile()
    with pytest.warns(UserWarning, match="fit\\(\\) got uint8 values") as caught:
        gan.fit(pixels, steps=2, verbose=0)
    assert len([w for w in caught if "unscaled" in str(w.message)]) == 1
    with pytest.warns(UserWarning, match="calibrate\\(\\) got values up to 1000 in"):
        gan.calibrate(digits[0][:256] * 1e3)
    recwarn.clear()
    # Scaled data, or a model that rescales its input itself: no warning.
    keras_ganinit.calibrate(classifier(), digits[0][:256])
    rescaling = keras.Sequential(
        [keras.Input((64,)), layers.Rescaling(1 / 255), layers.Dense(8, name="d")]
    )
    keras_ganinit.calibrate(rescaling, pixels)
    assert not [w for w in recwarn if "unscaled" in str(w.message)]


class MinimalCell(layers.Layer):
    """A recurrent cell of the user's own: calibrate has no rule for it."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, inputs, states):
        output = keras.ops.tanh(keras.ops.matmul(inputs, self.w) + states[0])
        return output, [output]


def test_every_weighted_layer_left_as_it_was_is_named_with_the_reason():
    x = np.random.default_rng(0).normal(size=(128, 10, 4)).astype("float32")
    inputs = keras.Input((10, 4))
    h = layers.RNN(MinimalCell(8), return_sequences=True, name="custom")(inputs)
    h = layers.GroupQueryAttention(4, 2, 1, name="gqa")(h, h)
    h = layers.LayerNormalization(name="ln")(h)
    outputs = layers.Dense(4, name="d")(layers.GRU(8, name="gru")(h))
    model = keras.Model(inputs, outputs)
    custom = [_np(w).copy() for w in model.get_layer("custom").weights]
    report = keras_ganinit.calibrate(model, x)
    assert report.layers == ["gru", "d"]
    why = {r["layer"]: r["why"] for r in report.left}
    assert set(why) == {"custom", "gqa", "ln"}
    assert "cell" in why["custom"] and "MultiHeadAttention" in why["gqa"]
    assert "normalization" in why["ln"]
    assert "Left as it was: gqa (GroupedQueryAttention)" in str(report)
    for old, new in zip(custom, model.get_layer("custom").weights, strict=True):
        np.testing.assert_array_equal(old, _np(new))
    only = keras.Sequential([keras.Input((10, 4)), layers.RNN(MinimalCell(8))])
    with pytest.raises(ValueError, match=r"no layer that calibrate.*rnn.*cell"):
        keras_ganinit.calibrate(only, x)
