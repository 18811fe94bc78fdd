"""The automatic mirror: the extractor's computation run back to its input shape."""

import keras
import numpy as np
import pytest
from keras import layers

from keras_ganinit._mirror import build_mirror

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


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_mirror_output_has_exactly_the_input_shape(name):
    shape, chain = CHAINS[name]
    extractor = keras.Sequential([keras.Input(shape), *chain])
    decoder = build_mirror(extractor)
    assert decoder.input_shape == extractor.output_shape
    assert decoder.output_shape == (None, *shape)
    if name == "channels_first":
        return  # TensorFlow's CPU kernels run channels_last only.
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
    decoder = build_mirror(extractor)
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
    kinds = [type(layer).__name__ for layer in _layers(build_mirror(extractor))]
    assert kinds == ["Reshape", "UpSampling2D"]


def test_nested_and_functional_chains_are_mirrored():
    inner = keras.Sequential([keras.Input((8,)), L.Dense(6, name="inner")])
    inputs = keras.Input((8,))
    outputs = L.Dense(3, name="outer")(inner(inputs))
    decoder = build_mirror(keras.Model(inputs, outputs))
    assert [layer.name for layer in _layers(decoder)] == [
        "outer_mirror",
        "inner_mirror",
    ]
    assert decoder.output_shape == (None, 8)
