"""lsuv(): unit output variance per layer on real data, directions kept."""

import keras
import numpy as np
import pytest
from keras import layers

import keras_ganinit


def pre_activations(model, x):
    out = []
    for layer in model.layers:
        pre = x @ layer.kernel.numpy() + layer.bias.numpy()
        out.append(pre)
        x = keras.ops.convert_to_numpy(layer.activation(pre))
    return out


def test_every_layer_reaches_unit_variance_and_keeps_its_direction(digits):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(64, activation="tanh", kernel_initializer="orthogonal"),
            layers.Dense(
                32,
                activation="relu",
                kernel_initializer=keras.initializers.RandomNormal(0, 3),
            ),
        ]
    )
    before = [layer.kernel.numpy().ravel() for layer in model.layers]
    x = digits[0][:512]
    assert abs(np.std(pre_activations(model, x)[1]) - 1.0) > 0.5
    assert keras_ganinit.lsuv(model, x) is model
    for pre in pre_activations(model, x):
        assert abs(np.std(pre) - 1.0) <= 0.02
    for old, layer in zip(before, model.layers, strict=True):
        new = layer.kernel.numpy().ravel()
        cosine = old @ new / (np.linalg.norm(old) * np.linalg.norm(new))
        assert cosine > 0.9999


def test_conv_layers_are_rescaled_too(digit_images):
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(8, 3, activation="relu", kernel_initializer="orthogonal"),
            layers.Flatten(),
            layers.Dense(10),
        ]
    )
    keras_ganinit.lsuv(model, digit_images[:256], target_std=lambda layer: 0.5)
    probe = keras.Model(model.inputs[0], model.layers[-1].output)
    output = keras.ops.convert_to_numpy(probe(digit_images[:256]))
    assert abs(np.std(output) - 0.5) <= 0.02


def test_bad_inputs_are_explained(digits):
    with pytest.raises(TypeError, match="built keras.Model"):
        keras_ganinit.lsuv(layers.Dense(3), digits[0][:10])
    model = keras.Sequential([keras.Input((64,)), layers.Dense(4)])
    with pytest.raises(
        ValueError, match="target_std must be None.*a number > 0 and at most"
    ):
        keras_ganinit.lsuv(model, digits[0][:10], target_std=0)
    with pytest.raises(ValueError, match="target_std must be.*layer 'dense"):
        keras_ganinit.lsuv(model, digits[0][:10], target_std=lambda layer: None)
    with pytest.raises(ValueError, match="constant"):
        keras_ganinit.lsuv(model, np.zeros((16, 64), "float32"))
    with pytest.raises(ValueError, match="no layer with a kernel"):
        keras_ganinit.lsuv(
            keras.Sequential([keras.Input((4,)), layers.ReLU()]), np.ones((4, 4))
        )


def test_layers_inside_nested_models_are_rescaled(digits):
    inner = keras.Sequential([keras.Input((64,)), layers.Dense(32, name="inner")])
    inputs = keras.Input((64,))
    outputs = layers.Dense(16, activation="relu", name="outer")(inner(inputs))
    model = keras.Model(inputs, outputs)
    x = digits[0][:512]
    keras_ganinit.lsuv(model, x)
    hidden = x @ inner.layers[0].kernel.numpy() + inner.layers[0].bias.numpy()
    outer = model.get_layer("outer")
    pre = hidden @ outer.kernel.numpy() + outer.bias.numpy()
    assert abs(np.std(hidden) - 1.0) <= 0.02 and abs(np.std(pre) - 1.0) <= 0.02


def test_center_gives_every_unit_zero_mean_and_the_layer_unit_variance(
    digits, digit_images
):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(32, activation="relu", kernel_initializer="orthogonal"),
            layers.Dense(16, activation="tanh", use_bias=False),
        ]
    )
    x = digits[0][:512]  # pixel values in [0, 1]: far from centered
    first = x @ model.layers[0].kernel.numpy()
    assert np.abs(first.mean(0)).max() > 0.2
    bias_free = model.layers[1].kernel.numpy()
    keras_ganinit.lsuv(model, x, center=True)
    first = x @ model.layers[0].kernel.numpy() + model.layers[0].bias.numpy()
    assert np.abs(first.mean(0)).max() <= 0.02
    assert abs(np.std(first) - 1.0) <= 0.02
    # a layer without a bias is rescaled only, and keeps its direction
    second = keras.ops.convert_to_numpy(model.layers[0].activation(first))
    second = second @ model.layers[1].kernel.numpy()
    assert abs(np.std(second) - 1.0) <= 0.02
    new = model.layers[1].kernel.numpy().ravel()
    cosine = bias_free.ravel() @ new / (np.linalg.norm(bias_free) * np.linalg.norm(new))
    assert cosine > 0.9999

    conv = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(8, 3, activation="relu", kernel_initializer="orthogonal"),
        ]
    )
    keras_ganinit.lsuv(conv, digit_images[:256], center=True)
    layer = conv.layers[0]
    activation, layer.activation = layer.activation, keras.activations.linear
    output = keras.ops.convert_to_numpy(conv(digit_images[:256]))
    layer.activation = activation
    channel_means = output.reshape(-1, 8).mean(0)
    assert np.abs(channel_means).max() <= 0.02
    assert abs(np.std(output) - 1.0) <= 0.02


@pytest.mark.channels_first
@pytest.mark.parametrize("channels", [4, 8])  # 8: as many channels as width
def test_center_uses_the_channel_axis_of_channels_first_convolutions(
    digit_images, channels
):
    x = np.transpose(digit_images[:256], (0, 3, 1, 2))  # (256, 1, 8, 8)
    conv = layers.Conv2D(
        channels, 3, padding="same", data_format="channels_first", name="conv"
    )
    model = keras.Sequential([keras.Input((1, 8, 8)), conv])
    if channels == 8 and keras.backend.backend() == "tensorflow":
        # Keras's TensorFlow ops.add (keras/src/backend/tensorflow/numpy.py)
        # turns the (1, 8, 1, 1) bias into an NHWC bias_add when the channels
        # equal the width, so no bias can center these channels: lsuv says so.
        with pytest.warns(UserWarning, match="did not bring layer 'conv'"):
            keras_ganinit.lsuv(model, x, center=True)
        return
    keras_ganinit.lsuv(model, x, center=True)
    output = keras.ops.convert_to_numpy(model(x))
    assert np.abs(output.mean(axis=(0, 2, 3))).max() <= 0.02  # per channel
    assert abs(output.std() - 1.0) <= 0.02


def test_branches_are_rescaled_in_graph_order(digits):
    inputs = keras.Input((64,))
    a = layers.Dense(16, activation="relu", name="a")(inputs)
    b = layers.Dense(16, name="b")(inputs)
    merged = layers.Add()([a, b])
    outputs = layers.Dense(8, name="c")(merged)
    model = keras.Model(inputs, outputs)
    x = digits[0][:512]
    keras_ganinit.lsuv(model, x)
    probe = keras.Model(inputs, [model.get_layer(n).output for n in "bc"])
    b_out, c_out = (keras.ops.convert_to_numpy(t) for t in probe(x))
    a_pre = x @ model.get_layer("a").kernel.numpy() + model.get_layer("a").bias.numpy()
    for out in (a_pre, b_out, c_out):
        assert abs(np.std(out) - 1.0) <= 0.02


def test_verbose_prints_the_activation_statistics_before_and_after(digits, capsys):
    x = digits[0][:256]
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(
                16,
                activation="relu",
                name="small",
                kernel_initializer=keras.initializers.RandomNormal(stddev=0.001),
            ),
        ]
    )
    keras_ganinit.lsuv(model, x, verbose=True)
    out = capsys.readouterr().out
    assert "before and after lsuv()" in out
    line = next(row for row in out.splitlines() if row.startswith("small"))
    before_std, after_std = float(line.split()[2]), float(line.split()[5])
    assert before_std < 0.01 < 0.2 < after_std  # tiny kernels, then rescaled
    keras_ganinit.lsuv(model, x)  # quiet by default
    assert capsys.readouterr().out == ""

    gan = keras_ganinit.GanInitModel(model)
    gan.calibrate(x, verbose=True)
    assert "before and after calibrate()" in capsys.readouterr().out
