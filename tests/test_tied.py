"""Tied mirrors: the decoder reuses the extractor's kernels, transposed."""

import keras
import numpy as np
import pytest
from helpers import dense_extractor
from keras import layers
from sklearn.datasets import load_digits

import keras_ganinit

# unit tests of the private tied layers (TiedDense, tied_layers) as well
from keras_ganinit._src.mirror import tied as _tied

L = layers
_np = keras.ops.convert_to_numpy


def _digits(n=256):
    return (load_digits().data[:n] / 16.0).astype("float32")


def _cnn():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            L.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="c1"),
            L.Conv2D(6, 3, padding="valid", activation="relu", name="c2"),
            L.Flatten(name="flat"),
            L.Dense(10, name="fe"),
        ],
        name="cnn",
    )


def _conv1d():
    return keras.Sequential(
        [keras.Input((40, 1)), L.Conv1D(5, 5, strides=2, name="c1")], name="c1d"
    )


@pytest.mark.parametrize("make", [dense_extractor, _cnn, _conv1d])
def test_tied_mirror_owns_only_biases_and_gives_back_the_input_shape(make):
    extractor = make()
    decoder = keras_ganinit.mirror(extractor, tied=True)
    tied = _tied.tied_layers(decoder)
    kernel_layers = [layer for layer in extractor.layers if hasattr(layer, "kernel")]
    assert len(tied) == len(kernel_layers)
    assert all(v.path.endswith("bias") for v in decoder.trainable_variables)
    x = np.random.default_rng(0).normal(size=(3, *extractor.input_shape[1:]))
    output = decoder(extractor(x.astype("float32")))
    assert tuple(output.shape) == x.shape


def test_tied_dense_multiplies_by_the_transposed_kernel():
    extractor = dense_extractor()
    decoder = keras_ganinit.mirror(extractor, tied=True)
    mirror = decoder.get_layer("fe2_mirror")
    mirror.bias.assign(np.arange(128, dtype="float32"))
    h = np.random.default_rng(1).normal(size=(4, 32)).astype("float32")
    kernel = _np(extractor.get_layer("fe2").kernel)
    expected = h @ kernel.T + np.arange(128)
    np.testing.assert_allclose(_np(mirror(h)), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make", [_cnn, _conv1d])
def test_tied_conv_transpose_is_the_adjoint_of_the_conv(make):
    # <conv(x), y> == <conv_transpose(y), x> for the same kernel, no bias.
    extractor = make()
    decoder = keras_ganinit.mirror(extractor, tied=True)
    conv = extractor.get_layer("c1")
    mirror = decoder.get_layer("c1_mirror")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, *extractor.input_shape[1:])).astype("float32")
    conv_x = _np(
        keras.ops.conv(
            x,
            conv.kernel,
            strides=conv.strides,
            padding=conv.padding,
            data_format=conv.data_format,
        )
    )
    y = rng.normal(size=conv_x.shape).astype("float32")
    mirror.bias.assign(np.zeros_like(_np(mirror.bias)))
    transposed_y = _np(mirror(y))
    assert transposed_y.shape == x.shape
    np.testing.assert_allclose(np.sum(conv_x * y), np.sum(transposed_y * x), rtol=1e-4)


@pytest.fixture(scope="module")
def trained_tied():
    extractor = dense_extractor()
    decoder = keras_ganinit.mirror(extractor, tied=True)
    gan = keras_ganinit.GanInitModel(extractor, decoder=decoder)
    gan.compile()
    before = _np(extractor.get_layer("fe1").kernel).copy()
    history = gan.fit(_digits(), batch_size=32, epochs=2, verbose=0)
    return gan, before, history


def test_tied_gan_trains_the_shared_kernels(trained_tied):
    gan, before, history = trained_tied
    assert np.all(np.isfinite(history.history["g_loss"]))
    after = _np(gan.extractor.get_layer("fe1").kernel)
    assert not np.allclose(before, after)
    # One kernel per extractor layer; the mirror adds only biases.
    kernels = [v for v in gan.generator_trainable_variables if "kernel" in v.path]
    assert len(kernels) == 2


def test_tied_gan_round_trips_through_a_keras_file(trained_tied, tmp_path):
    gan, _, _ = trained_tied
    x = _digits(8)
    path = str(tmp_path / "tied.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert {layer.tied_to for layer in _tied.tied_layers(loaded.decoder)} == {
        "fe1",
        "fe2",
    }
    np.testing.assert_allclose(_np(loaded(x)), _np(gan(x)), rtol=1e-5, atol=1e-6)
    # The loaded mirror reads the loaded extractor's kernel, not a copy.
    kernel = loaded.extractor.get_layer("fe1").kernel
    kernel.assign(np.zeros(kernel.shape, dtype="float32"))
    assert not np.allclose(_np(loaded(x)), _np(gan(x)), atol=1e-3)
    loaded.fit(x, epochs=1, verbose=0)


def test_tied_mirror_errors_say_what_to_do():
    grouped = keras.Sequential([keras.Input((8, 4)), L.Conv1D(4, 3, groups=2)])
    with pytest.warns(UserWarning, match="grouped Conv.*keep kernels of their own"):
        decoder = keras_ganinit.mirror(grouped, tied=True)
    gan = keras_ganinit.GanInitModel(grouped, decoder=decoder)
    assert not _tied.tied_layers(gan.decoder)
    assert len(gan.decoder.trainable_variables) == 2  # its own kernel and bias
    lone = _tied.TiedDense(8, tied_to="fe1")
    with pytest.raises(ValueError, match="reuses the kernel of extractor layer"):
        lone(np.zeros((2, 4), dtype="float32"))
    with pytest.raises(ValueError, match="tied_to must be the name"):
        _tied.TiedDense(8, tied_to="")


@pytest.mark.parametrize("make", [_cnn, _conv1d])
def test_tied_conv_mirrors_round_trip_through_a_keras_file(make, tmp_path):
    extractor = make()
    decoder = keras_ganinit.mirror(extractor, tied=True)
    gan = keras_ganinit.GanInitModel(extractor, decoder=decoder)
    shape = gan.extractor.input_shape[1:]
    x = np.random.default_rng(3).normal(size=(4, *shape)).astype("float32")
    path = str(tmp_path / "tied_conv.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    kinds = {type(layer).__name__ for layer in loaded.decoder.layers}
    assert any(kind.startswith("TiedConv") for kind in kinds)
    np.testing.assert_allclose(_np(loaded(x)), _np(gan(x)), rtol=1e-5, atol=1e-6)


def test_tied_mirror_of_a_residual_graph_trains():
    inputs = keras.Input((8, 8, 1))
    h = L.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inputs)
    r = L.Conv2D(4, 3, padding="same", name="c2")(h)
    h = L.Flatten(name="flat")(L.Add(name="add")([h, r]))
    extractor = keras.Model(inputs, L.Dense(6, name="fe")(h), name="res")
    gan = keras_ganinit.GanInitModel(
        extractor, decoder=keras_ganinit.mirror(extractor, tied=True), calibration=False
    )
    assert {layer.tied_to for layer in _tied.tied_layers(gan.decoder)} == {
        "c1",
        "c2",
        "fe",
    }
    gan.compile()
    before = _np(extractor.get_layer("c2").kernel).copy()
    gan.fit(_digits(64).reshape(-1, 8, 8, 1), epochs=1, batch_size=32, verbose=0)
    assert not np.array_equal(before, _np(extractor.get_layer("c2").kernel))


def test_a_seeded_tied_mirror_leaves_the_extractor_kernels_alone():
    extractor = dense_extractor()
    before = [keras.ops.convert_to_numpy(w) for w in extractor.weights]
    decoder = keras_ganinit.mirror(extractor, tied=True, seed=3)
    for old, new in zip(before, extractor.weights, strict=True):
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(new))
    again = keras_ganinit.mirror(extractor, tied=True, seed=3)
    for a, b in zip(decoder.weights, again.weights, strict=True):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )
