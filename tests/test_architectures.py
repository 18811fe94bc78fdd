"""Real architectures: branches, merges, depthwise and nested models, end to end.

Each extractor builds its mirror, trains two steps, is calibrated inside its
graph, saves, loads, and hands every weight over exactly through
`with_pretrained_initializers`, on every backend.
"""

import os

import keras
import numpy as np
import pytest
from helpers import (
    EAGER_IS_FASTER,
    ON_JAX,
    kernel_of,
    leaf_layers,
    pre_activations,
)
from keras import layers as L

import keras_ganinit

_np = keras.ops.convert_to_numpy


def residual():
    inputs = keras.Input((8, 8, 1))
    h = L.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inputs)
    r = L.Conv2D(8, 3, padding="same", use_bias=False, name="res_a")(h)
    r = L.BatchNormalization(name="res_bn")(r)
    r = L.ReLU(name="res_relu")(r)
    r = L.Conv2D(8, 3, padding="same", name="res_b")(r)
    h = L.ReLU(name="out_relu")(L.Add(name="res_add")([h, r]))
    h = L.MaxPooling2D(2, name="pool")(h)
    h = L.Dense(12, activation="relu", name="dense4d")(h)  # Dense on a 4-D tensor
    outputs = L.Dense(16, activation="relu", name="fe")(L.Flatten(name="flat")(h))
    return keras.Model(inputs, outputs, name="residual")


def concatenating():
    inputs = keras.Input((8, 8, 1))
    a = L.Conv2D(4, 1, activation="relu", name="b1x1")(inputs)
    b = L.Conv2D(6, 3, padding="same", activation="relu", name="b3x3")(inputs)
    c = L.AveragePooling2D(3, strides=1, padding="same", name="bpool")(inputs)
    h = L.Concatenate(name="concat")([a, b, c])
    h = L.Conv2D(8, 3, strides=2, activation="relu", name="reduce")(h)
    outputs = L.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(inputs, outputs, name="concatenating")


def squeeze_excite():
    inputs = keras.Input((8, 8, 1))
    h = L.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inputs)
    s = L.GlobalAveragePooling2D(keepdims=True, name="squeeze")(h)
    s = L.Conv2D(2, 1, activation="relu", name="se_reduce")(s)
    s = L.Conv2D(8, 1, activation="sigmoid", name="se_expand")(s)
    h = L.Multiply(name="excite")([h, s])
    outputs = L.Flatten(name="flat")(L.MaxPooling2D(2, name="pool")(h))
    return keras.Model(inputs, outputs, name="squeeze_excite")


def depthwise_separable():
    inputs = keras.Input((8, 8, 1))
    h = L.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inputs)
    h = L.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False, name="dw")(h)
    h = L.BatchNormalization(name="dw_bn")(h)
    h = L.ReLU(6.0, name="dw_relu")(h)
    h = L.DepthwiseConv2D(3, depth_multiplier=2, activation="relu", name="dw2")(h)
    h = L.SeparableConv2D(12, 3, padding="same", activation="relu", name="sep")(h)
    h = L.Conv2D(12, 3, padding="same", groups=3, activation="relu", name="grouped")(h)
    h = L.Conv2D(8, 3, padding="same", dilation_rate=2, name="dilated")(h)
    outputs = L.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(inputs, outputs, name="depthwise_separable")


def channels_first():
    cf = {"data_format": "channels_first"}
    inputs = keras.Input((1, 8, 8))
    h = L.ZeroPadding2D(1, name="pad", **cf)(inputs)
    h = L.Conv2D(4, 3, use_bias=False, name="conv", **cf)(h)
    h = L.BatchNormalization(axis=1, name="bn")(h)
    h = L.ReLU(name="relu")(h)
    r = L.Conv2D(4, 3, padding="same", activation="relu", name="res", **cf)(h)
    h = L.Add(name="add")([h, r])
    h = L.MaxPooling2D(2, name="pool", **cf)(h)
    h = L.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="c2", **cf)(h)
    outputs = L.GlobalAveragePooling2D(name="gap", **cf)(h)
    return keras.Model(inputs, outputs, name="channels_first")


def nested():
    stem = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            L.Conv2D(8, 2, strides=2, name="stem_conv"),
            L.LayerNormalization(name="stem_norm"),
        ],
        name="stem",
    )
    inputs = keras.Input((8, 8, 1))
    h = stem(inputs)
    r = L.DepthwiseConv2D(3, padding="same", name="block_dw")(h)
    r = L.Dense(16, activation="relu", name="block_up")(r)
    r = L.Dense(8, name="block_down")(r)
    outputs = L.Flatten(name="flat")(L.Add(name="block_add")([h, r]))
    return keras.Model(inputs, outputs, name="nested")


EXTRACTORS = {
    "residual": residual,
    "concatenating": concatenating,
    "squeeze_excite": squeeze_excite,
    "depthwise_separable": depthwise_separable,
    "channels_first": channels_first,
    "nested": nested,
}


@pytest.fixture(scope="module")
def images(digit_images):
    return digit_images[:256]


def weights_by_layer(model):
    return {
        layer.name: [_np(v) for v in layer.weights]
        for layer in leaf_layers(model)
        if layer.weights
    }


def calibrated_statistics(model, x):
    """Per kernel layer: (std of its pre-activation, centered where it has a
    bias; the largest |mean| of one of its units)."""
    found = {}
    scaled = [layer for layer in leaf_layers(model) if kernel_of(layer) is not None]
    outputs = pre_activations(model, x, scaled)
    for layer in scaled:
        value, axis = outputs[layer.name]
        out = np.moveaxis(value, axis, -1).reshape(-1, value.shape[axis])
        has_bias = getattr(layer, "bias", None) is not None
        found[layer.name] = (
            float(np.std(out - out.mean(0) if has_bias else out)),
            float(np.abs(out.mean(0)).max()) if has_bias else 0.0,
        )
    return found


def pretrain_save_load_transfer(make, x, tmp_path, fit_kwargs=None):
    """The whole user path; returns (gan, path, started model)."""
    keras.utils.set_random_seed(0)
    gan = keras_ganinit.GanInitModel(make(), calibration=False)
    assert gan.decoder.output_shape == gan.extractor.input_shape
    gan.compile(**(fit_kwargs or {}))
    before = weights_by_layer(gan.extractor)
    history = gan.fit(x, epochs=1, batch_size=8, steps_per_epoch=2, verbose=0)
    assert gan.generator_optimizer.iterations.numpy() == 2
    assert all(np.isfinite(v[0]) for v in history.history.values())
    after = weights_by_layer(gan.extractor)
    assert any(not np.array_equal(before[k][0], after[k][0]) for k in before)

    gan.calibrate(x[:64])
    stats = calibrated_statistics(gan.extractor, keras.ops.convert_to_tensor(x[:64]))
    assert stats
    # The std each layer was given: 1, or, for a residual branch's last
    # layer, what joins its stream at the stream's std / sqrt(merges).
    report = keras_ganinit.calibrate(gan.extractor, x[:64])
    targets = {r["layer"]: r["target_std"] for r in report.rows}
    for name, (std, mean) in stats.items():
        if "residual branch" not in report.rows[list(targets).index(name)]["kernel"]:
            assert targets[name] == 1.0, name
        assert abs(std - targets[name]) <= 0.05, (name, std, targets[name])
        assert mean <= 0.05, (name, mean)

    path = str(tmp_path / "pretrained.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        _np(loaded(x[:4])), _np(gan(x[:4])), rtol=1e-4, atol=1e-5
    )

    started = keras_ganinit.with_pretrained_initializers(make(), path)
    expected, got = weights_by_layer(gan.extractor), weights_by_layer(started)
    assert expected.keys() == got.keys()
    for name in expected:
        for a, b in zip(expected[name], got[name], strict=True):
            assert np.array_equal(a, b), name
    return gan, path, started


# The default suite pretrains the residual, concatenating, depthwise and
# channels_first graphs on TensorFlow and PyTorch (the residual one on JAX
# too); every graph
# is mirrored, calibrated and transferred by the cheaper tests below, and
# pretrained with --run-large.
_PRETRAINED_BY_DEFAULT = {
    "residual": True,
    "concatenating": not ON_JAX,
    "depthwise_separable": not ON_JAX,
    "channels_first": not ON_JAX,  # where the platform runs it (conftest)
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=([] if _PRETRAINED_BY_DEFAULT.get(name) else [pytest.mark.large])
            + ([pytest.mark.channels_first] if name == "channels_first" else []),
        )
        for name in sorted(EXTRACTORS)
    ],
)
def test_graph_extractors_pretrain_calibrate_save_and_transfer(name, images, tmp_path):
    make = EXTRACTORS[name]
    x = np.transpose(images, (0, 3, 1, 2)) if name == "channels_first" else images
    gan, path, started = pretrain_save_load_transfer(make, x, tmp_path)
    np.testing.assert_allclose(
        _np(started(x[:4])), _np(gan.extractor(x[:4])), rtol=1e-4, atol=1e-5
    )
    # The started model saves and loads like any other, with the source gone.
    kept = str(tmp_path / "started.keras")
    started.save(kept)
    os.remove(path)
    with pytest.warns(UserWarning, match="could not use its source"):
        reloaded = keras.saving.load_model(kept)
    for a, b in zip(reloaded.weights, started.weights, strict=True):
        assert np.array_equal(_np(a), _np(b))


@pytest.mark.large
def test_mobilenet_v2_from_keras_applications(tmp_path):
    x = np.random.default_rng(0).uniform(0, 1, size=(32, 32, 32, 3)).astype("float32")

    def make():
        return keras.applications.MobileNetV2(
            weights=None, include_top=False, input_shape=(32, 32, 3)
        )

    gan, _, started = pretrain_save_load_transfer(
        make, x, tmp_path, {"run_eagerly": EAGER_IS_FASTER}
    )
    np.testing.assert_allclose(
        _np(started(x[:2])), _np(gan.extractor(x[:2])), rtol=1e-3, atol=1e-4
    )


def _transfers_in_full(make, recwarn):
    """A second instance built in this process takes every weight of the first."""
    first, second = make(), make()
    started = keras_ganinit.with_pretrained_initializers(second, first)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
    for a, b in zip(started.weights, first.weights, strict=True):
        assert np.array_equal(_np(a), _np(b)), a.path


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_each_extractor_built_twice_in_one_process_transfers_in_full(name, recwarn):
    _transfers_in_full(EXTRACTORS[name], recwarn)


@pytest.mark.large
@pytest.mark.parametrize(
    "application, size",
    [("InceptionV3", 75), ("Xception", 71), ("ConvNeXtTiny", 32)],
)
def test_applications_with_unnamed_layers_built_twice_transfer_in_full(
    application, size, recwarn
):
    # These leave some layers to Keras's per-process names (conv2d_97, ...).
    def make():
        return getattr(keras.applications, application)(
            weights=None, include_top=False, input_shape=(size, size, 3)
        )

    _transfers_in_full(make, recwarn)
