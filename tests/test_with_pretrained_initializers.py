"""with_pretrained_initializers: a whole model started from a pretrained source."""

import os

import keras
import numpy as np
import pytest
from helpers import dense_extractor
from keras import layers as L

import keras_ganinit

_np = keras.ops.convert_to_numpy


def backbone(prefix="b"):
    inputs = keras.Input((8, 8, 3))
    h = L.Conv2D(8, 3, padding="same", use_bias=False, name=f"{prefix}_conv")(inputs)
    h = L.BatchNormalization(name=f"{prefix}_bn")(h)
    h = L.ReLU()(h)
    h = L.DepthwiseConv2D(3, padding="same", name=f"{prefix}_dw")(h)
    h = L.SeparableConv2D(6, 3, name=f"{prefix}_sep")(h)
    outputs = L.GlobalAveragePooling2D()(h)
    return keras.Model(inputs, outputs, name=f"{prefix}_backbone")


@pytest.fixture(scope="module")
def source():
    """A backbone whose every variable differs from a fresh one's."""
    keras.utils.set_random_seed(0)
    model = backbone()
    rng = np.random.default_rng(0)
    for variable in model.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32") ** 2)
    return model


def test_every_variable_is_handed_over_and_other_layers_keep_theirs(source, tmp_path):
    path = str(tmp_path / "source.keras")
    source.save(path)
    target = keras.Sequential(
        [backbone(), L.Dense(3, name="head")], name="classifier"
    )  # nested: the backbone is walked
    head = _np(target.get_layer("head").kernel)
    started = keras_ganinit.with_pretrained_initializers(target, path)
    assert started is not target and started.name == "classifier"
    inner = started.layers[0]
    for variable, expected in zip(inner.weights, source.weights, strict=True):
        assert np.array_equal(_np(variable), _np(expected)), variable.path
    kinds = {
        type(getattr(layer, name)).__name__
        for layer in inner.layers
        for name in ("depthwise_initializer", "pointwise_initializer")
        if hasattr(layer, name)
    }
    assert kinds == {"GanPretrainedInitializer"}
    # The head has no counterpart: a fresh kernel of its own initializer.
    assert started.get_layer("head").kernel.shape == head.shape
    assert not np.array_equal(_np(started.get_layer("head").kernel), head)
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(_np(inner(x)), _np(source(x)), rtol=1e-5, atol=1e-5)


def test_an_in_memory_gan_source_and_depthwise_variables(source):
    gan = keras_ganinit.GanInitModel(backbone("g"))
    started = keras_ganinit.with_pretrained_initializers(backbone("g"), gan)
    for a, b in zip(started.weights, gan.extractor.weights, strict=True):
        assert np.array_equal(_np(a), _np(b))
    for variable in ("depthwise_kernel", "pointwise_kernel"):
        init = keras_ganinit.GanPretrainedInitializer(
            source=source, layer="b_sep", variable=variable
        )
        expected = _np(getattr(source.get_layer("b_sep"), variable))
        assert np.array_equal(_np(init(expected.shape)), expected)
    dw = keras_ganinit.GanPretrainedInitializer(
        source=source, layer="b_dw", variable="depthwise_kernel"
    )
    assert np.array_equal(
        _np(dw(source.get_layer("b_dw").kernel.shape)),
        _np(source.get_layer("b_dw").kernel),
    )


def test_a_model_built_twice_in_one_process_transfers_in_full(recwarn):
    # Keras numbers the layers it names per process (dense_3, dense_7): by
    # default those match by their place, the names you chose by name.
    def model():
        inputs = keras.Input((8, 8, 1))
        x = L.Conv2D(4, 3, activation="relu")(inputs)
        x = L.BatchNormalization()(x)
        y = L.Conv2D(4, 3, padding="same", name="side")(x)
        x = L.Add()([x, y])
        x = L.Conv2D(6, 3)(x)
        x = L.Flatten()(x)
        x = L.Dense(5, activation="relu")(x)
        return keras.Model(inputs, L.Dense(3)(x))

    first, second = model(), model()
    assert first.layers[1].name != second.layers[1].name
    started = keras_ganinit.with_pretrained_initializers(second, first)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
    assert len(started.weights) == len(first.weights)
    for a, b in zip(started.weights, first.weights, strict=True):
        assert np.array_equal(_np(a), _np(b)), a.path
    # By name alone, only the layer named by hand would find its counterpart.
    with pytest.warns(UserWarning, match="matched 1 layers .*match='name'"):
        keras_ganinit.with_pretrained_initializers(second, first, match="name")


def test_match_by_name_or_order_as_before(source):
    def mlp():
        return keras.Sequential(
            [keras.Input((6,)), L.Dense(5, activation="relu"), L.Dense(4)]
        )

    first, second = mlp(), mlp()
    # Names that drifted apart in part, with match="name": warned, not
    # silently half-transferred.
    partly = keras.Sequential(
        [keras.Input((6,)), L.Dense(5, name=first.layers[0].name), L.Dense(4)]
    )
    with pytest.warns(UserWarning, match="1 of its layers .* match='order'"):
        keras_ganinit.with_pretrained_initializers(partly, first, match="name")
    started = keras_ganinit.with_pretrained_initializers(second, first, match="order")
    for a, b in zip(started.weights, first.weights, strict=True):
        assert np.array_equal(_np(a), _np(b))
    # A layer that matches neither way is counted in the warning.
    other = keras.Sequential(
        [keras.Input((6,)), L.Dense(5, activation="relu"), L.Dense(7)]
    )
    with pytest.warns(UserWarning, match="matched 1 layers .* 1 of its layers"):
        keras_ganinit.with_pretrained_initializers(other, first)


def test_an_initializer_given_a_generated_name_finds_its_layer():
    first = keras.Sequential([keras.Input((6,)), L.Dense(5, name="hidden"), L.Dense(4)])
    generated = first.layers[1].name  # dense_N, as this process numbered it
    init = keras_ganinit.GanPretrainedInitializer(source=first, layer="dense_12345")
    assert np.array_equal(_np(init((5, 4))), _np(first.get_layer(generated).kernel))
    two = keras.Sequential([keras.Input((6,)), L.Dense(5), L.Dense(4)])
    with pytest.raises(ValueError, match="Keras generated that name.*2 layers"):
        keras_ganinit.GanPretrainedInitializer(source=two, layer="dense_12345")


def test_mismatches_are_explained(source):
    with pytest.raises(ValueError) as error:
        keras_ganinit.with_pretrained_initializers(backbone("other"), source)
    message = str(error.value)
    assert "'other_conv'" in message and "'b_conv'" in message
    inputs = keras.Input((8, 8, 3))
    wide = keras.Model(inputs, L.Conv2D(16, 3, name="b_conv")(inputs))
    with pytest.raises(ValueError, match="'b_conv' of the model has kernel shape"):
        keras_ganinit.with_pretrained_initializers(wide, source)
    renamed = keras.Sequential([keras.Input((4,)), L.Dense(2, name="b_conv")])
    with pytest.raises(ValueError, match="'b_conv' \\(Dense\\) .* \\(Conv2D\\)"):
        keras_ganinit.with_pretrained_initializers(renamed, source)
    with pytest.raises(ValueError, match="match must be 'auto'"):
        keras_ganinit.with_pretrained_initializers(backbone(), source, match="nope")
    with pytest.raises(ValueError, match="has 3 .* has 4"):
        keras_ganinit.with_pretrained_initializers(
            keras.Sequential([keras.Input((4,)), L.Dense(2), L.Dense(2), L.Dense(2)]),
            source,
            match="order",
        )
    with pytest.raises(TypeError, match="source must be a path"):
        keras_ganinit.with_pretrained_initializers(backbone(), 3)
    with pytest.raises(TypeError, match="needs a built keras.Model"):
        keras_ganinit.with_pretrained_initializers(L.Dense(3), source)
    with pytest.raises(FileNotFoundError, match="cannot be found"):
        keras_ganinit.with_pretrained_initializers(backbone(), "missing.keras")


@keras.saving.register_keras_serializable(package="keras_ganinit_tests")
class Scale(L.Layer):
    """Like ConvNeXt's LayerScale: a gamma no constructor argument initializes."""

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.gamma


def test_variables_without_an_initializer_argument_are_assigned():
    def model():
        inputs = keras.Input((5,))
        return keras.Model(inputs, Scale(name="scale")(L.Dense(5, name="d")(inputs)))

    source = model()
    source.get_layer("scale").gamma.assign(np.arange(5, dtype="float32"))
    started = keras_ganinit.with_pretrained_initializers(model(), source)
    assert np.array_equal(_np(started.get_layer("scale").gamma), np.arange(5))
    assert np.array_equal(
        _np(started.get_layer("d").kernel), _np(source.get_layer("d").kernel)
    )


def test_a_saved_extractor_alone_is_a_source(saved_gan, tmp_path):
    # gan.extractor.save() keeps what transfer needs, without the decoder,
    # the discriminator and three optimizers' state.
    path, gan = saved_gan
    alone = tmp_path / "extractor.keras"
    gan.extractor.save(alone)
    assert alone.stat().st_size < 0.5 * os.path.getsize(path)
    started = keras_ganinit.with_pretrained_initializers(dense_extractor(), alone)
    for a, b in zip(started.weights, gan.extractor.weights, strict=True):
        assert np.array_equal(_np(a), _np(b))
    init = keras_ganinit.GanPretrainedInitializer(source=str(alone), layer="fe2")
    assert np.array_equal(
        _np(init((128, 32))), _np(gan.extractor.get_layer("fe2").kernel)
    )
