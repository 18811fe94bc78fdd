"""The automatic mirror: the extractor's computation run back to its input shape."""

import keras
import numpy as np
import pytest
from keras import layers

import keras_ganinit

_np = keras.ops.convert_to_numpy

L = layers


def _layers(model):
    return [layer for layer in model.layers if not isinstance(layer, L.InputLayer)]


CHAINS = {
    "dense": ((64,), [L.Dense(128, activation="relu"), L.Dense(32, activation="relu")]),
    "conv2d_pool_flatten": (
        (8, 8, 1),
        [
            L.Conv2D(8, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(16, 3, strides=2),
            L.Flatten(),
            L.Dense(10),
        ],
    ),
    "odd_sizes": (
        (7, 9, 3),
        [
            L.Conv2D(4, 3, strides=2),
            L.BatchNormalization(),
            L.ReLU(),
            L.Dropout(0.2),
            L.AveragePooling2D(2),
            L.GlobalAveragePooling2D(),
        ],
    ),
    "conv1d": (
        (40, 1),
        [
            L.Conv1D(8, 5, strides=2, activation="tanh"),
            L.MaxPooling1D(3),
            L.Conv1D(4, 3, padding="causal"),
            L.Flatten(),
            L.Dense(16),
        ],
    ),
    "conv3d": (
        (5, 6, 7, 2),
        [L.ZeroPadding3D(1), L.Conv3D(3, 3, strides=2), L.GlobalMaxPooling3D()],
    ),
    "reshape_permute": (
        (12,),
        [
            L.Reshape((3, 4)),
            L.Permute((2, 1)),
            L.Conv1D(2, 2),
            L.Cropping1D((1, 0)),
            L.LayerNormalization(),
            L.Flatten(),
        ],
    ),
    "channels_first": (
        (2, 9, 9),
        [
            L.Conv2D(4, 3, strides=2, data_format="channels_first"),
            L.MaxPooling2D(2, data_format="channels_first"),
        ],
    ),
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.channels_first)
        if name == "channels_first"
        else name
        for name in sorted(CHAINS)
    ],
)
def test_mirror_output_has_exactly_the_input_shape(name):
    shape, chain = CHAINS[name]
    extractor = keras.Sequential([keras.Input(shape), *chain])
    decoder = keras_ganinit.mirror(extractor)
    assert decoder.input_shape == extractor.output_shape
    assert decoder.output_shape == (None, *shape)
    out = decoder(extractor(np.random.rand(3, *shape).astype("float32")))
    assert tuple(out.shape) == (3, *shape)


def test_dense_and_conv_mirrors_have_the_transposed_kernel_shapes():
    extractor = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            L.Conv2D(
                6, (3, 2), strides=(2, 1), padding="same", activation="relu", name="c"
            ),
            L.Flatten(name="flat"),
            L.Dense(5, activation="tanh", name="d"),
        ]
    )
    decoder = keras_ganinit.mirror(extractor)
    names = [layer.name for layer in _layers(decoder)]
    assert names == ["d_mirror", "flat_mirror", "c_mirror_activation", "c_mirror"]
    assert tuple(decoder.get_layer("d_mirror").kernel.shape) == (5, 4 * 8 * 6)
    conv, transpose = extractor.get_layer("c"), decoder.get_layer("c_mirror")
    assert isinstance(transpose, L.Conv2DTranspose)
    assert tuple(transpose.kernel.shape) == tuple(conv.kernel.shape)
    assert (transpose.kernel_size, transpose.strides, transpose.padding) == (
        conv.kernel_size,
        conv.strides,
        conv.padding,
    )
    # The extractor's final tanh is not applied again; the mirror ends linear.
    assert decoder.get_layer("d_mirror").activation is keras.activations.linear
    assert decoder.get_layer("c_mirror").activation is keras.activations.linear
    assert decoder.get_layer("c_mirror_activation").activation is keras.activations.relu


def test_pooling_mirrors_to_upsampling_and_flatten_to_reshape():
    extractor = keras.Sequential(
        [keras.Input((8, 8, 2)), L.MaxPooling2D(2), L.Flatten()]
    )
    kinds = [type(layer).__name__ for layer in _layers(keras_ganinit.mirror(extractor))]
    assert kinds == ["Reshape", "UpSampling2D"]


def test_nested_and_functional_chains_are_mirrored():
    inner = keras.Sequential([keras.Input((8,)), L.Dense(6, name="inner")])
    inputs = keras.Input((8,))
    outputs = L.Dense(3, name="outer")(inner(inputs))
    decoder = keras_ganinit.mirror(keras.Model(inputs, outputs))
    assert [layer.name for layer in _layers(decoder)] == [
        "outer_mirror",
        "inner_mirror",
    ]
    assert decoder.output_shape == (None, 8)


def _functional(inputs, outputs, name="graph"):
    return keras.Model(inputs, outputs, name=name)


def test_merges_send_the_signal_back_to_every_branch_and_fan_outs_average():
    # extractor: x -> Dense a -> (Dense b, identity) -> Add. Its mirror sends
    # the signal to both Add inputs; a's output then gets the mean of what
    # b's mirror and the identity send back.
    inputs = keras.Input((6,))
    a = L.Dense(4, name="a")(inputs)
    b = L.Dense(4, name="b")(a)
    outputs = L.Add(name="add")([a, b])
    decoder = keras_ganinit.mirror(_functional(inputs, outputs))
    kinds = {type(layer).__name__ for layer in _layers(decoder)}
    assert kinds == {"Dense", "Average"}
    z = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    b_back = z @ _np(decoder.get_layer("b_mirror").kernel) + _np(
        decoder.get_layer("b_mirror").bias
    )
    a_signal = (b_back + z) / 2
    a_mirror = decoder.get_layer("a_mirror")
    expected = a_signal @ _np(a_mirror.kernel) + _np(a_mirror.bias)
    np.testing.assert_allclose(_np(decoder(z)), expected, rtol=1e-5, atol=1e-5)


def test_concatenate_is_split_along_its_axis():
    inputs = keras.Input((4, 4, 2))
    a = L.Conv2D(3, 1, name="a")(inputs)
    b = L.Conv2D(5, 1, name="b")(inputs)
    outputs = L.Concatenate(name="cat")([a, b])
    decoder = keras_ganinit.mirror(_functional(inputs, outputs))
    z = np.random.default_rng(1).normal(size=(2, 4, 4, 8)).astype("float32")
    a_mirror, b_mirror = decoder.get_layer("a_mirror"), decoder.get_layer("b_mirror")
    assert a_mirror.input.shape[-1] == 3 and b_mirror.input.shape[-1] == 5
    expected = (_np(a_mirror(z[..., :3])) + _np(b_mirror(z[..., 3:]))) / 2
    np.testing.assert_allclose(_np(decoder(z)), expected, rtol=1e-5, atol=1e-5)


def test_squeeze_excite_gate_gets_the_signal_averaged_to_its_shape():
    inputs = keras.Input((6, 6, 4))
    gate = L.GlobalAveragePooling2D(keepdims=True, name="squeeze")(inputs)
    gate = L.Conv2D(4, 1, activation="sigmoid", name="gate")(gate)
    outputs = L.Multiply(name="excite")([inputs, gate])
    decoder = keras_ganinit.mirror(_functional(inputs, outputs))
    reduce = [x for x in _layers(decoder) if type(x).__name__ == "MirrorReduce"]
    assert len(reduce) == 1 and reduce[0].output.shape == (None, 1, 1, 4)
    z = np.random.default_rng(2).normal(size=(2, 6, 6, 4)).astype("float32")
    np.testing.assert_allclose(
        _np(reduce[0](z)), z.mean(axis=(1, 2), keepdims=True), rtol=1e-5, atol=1e-6
    )
    assert decoder.output_shape == (None, 6, 6, 4)


def test_rescaling_and_normalization_mirror_to_their_inverses():
    inputs = keras.Input((5, 5, 3))
    h = L.Rescaling(1 / 127.5, offset=-1.0, name="scale")(inputs)
    norm = L.Normalization(mean=[0.1, 0.2, 0.3], variance=[4.0, 9.0, 0.25], name="norm")
    outputs = norm(h)
    extractor = _functional(inputs, outputs)
    decoder = keras_ganinit.mirror(extractor)
    x = np.random.default_rng(3).uniform(0, 255, size=(2, 5, 5, 3)).astype("float32")
    np.testing.assert_allclose(_np(decoder(extractor(x))), x, rtol=1e-4, atol=1e-2)


def test_unknown_shape_keeping_layers_mirror_to_the_identity():
    class Scale(L.Layer):  # like ConvNeXt's LayerScale: no compute_output_shape
        def call(self, x):
            return 2.0 * x

    inputs = keras.Input((4, 4, 3))
    outputs = Scale(name="scale")(L.Conv2D(3, 1, name="conv")(inputs))
    decoder = keras_ganinit.mirror(_functional(inputs, outputs))
    assert [layer.name for layer in _layers(decoder)] == ["conv_mirror"]


@pytest.mark.parametrize(
    "make, what",
    [
        (
            lambda: keras.Sequential([keras.Input((7, 3)), L.RNN(L.SimpleRNNCell(4))]),
            "RNN",
        ),
        (
            lambda: keras.Sequential([keras.Input((7, 3, 1)), L.ConvLSTM1D(2, 3)]),
            "ConvLSTM1D",
        ),
        (
            lambda: keras.Sequential(
                [keras.Input((7, 3)), L.TimeDistributed(L.Embedding(5, 2))]
            ),
            "TimeDistributed",
        ),
    ],
)
def test_layers_without_a_mirror_get_a_clear_error(make, what):
    with pytest.raises(ValueError) as error:
        keras_ganinit.mirror(make())
    message = str(error.value)
    assert f"of class {what}" in message and "Pass decoder=" in message
    assert "subscriptable" not in message


def test_cross_attention_and_several_inputs_are_refused_clearly():
    inputs = keras.Input((5, 8))
    outputs = L.MultiHeadAttention(2, 4, name="mha")(inputs, L.Dense(8)(inputs))
    with pytest.raises(ValueError, match="'mha' of class MultiHeadAttention.*decoder="):
        keras_ganinit.mirror(_functional(inputs, outputs))
    a, b = keras.Input((4,)), keras.Input((4,))
    two = keras.Model([a, b], L.Add()([a, b]))
    with pytest.raises(ValueError, match="2 inputs and 1 outputs.*single-input"):
        keras_ganinit.mirror(two)


@pytest.mark.channels_first
def test_channels_first_padding_mirrors_crop_the_right_axes():
    cf = {"data_format": "channels_first"}
    extractor = keras.Sequential(
        [
            keras.Input((2, 5, 7)),
            L.ZeroPadding2D(((1, 2), (0, 3)), **cf),
            L.Conv2D(3, 3, strides=2, **cf),
            L.DepthwiseConv2D(3, padding="same", strides=2, **cf),
        ]
    )
    decoder = keras_ganinit.mirror(extractor)
    assert decoder.output_shape == (None, 2, 5, 7)
    x = np.random.default_rng(4).normal(size=(2, 2, 5, 7)).astype("float32")
    assert tuple(decoder(extractor(x)).shape) == (2, 2, 5, 7)
