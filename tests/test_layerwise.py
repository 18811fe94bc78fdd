"""pretrain_layerwise(): a deep chain pretrained block by block, then calibrated."""

import keras
import numpy as np
import pytest
from helpers import layer_outputs
from keras import layers

import keras_ganinit

_np = keras.ops.convert_to_numpy


def deep_mlp(depth=8, activation="tanh"):
    return keras.Sequential(
        [keras.Input((64,))]
        + [layers.Dense(32, activation=activation, name=f"d{i}") for i in range(depth)],
        name="deep",
    )


def kernels(model):
    return [np.array(_np(layer.kernel)) for layer in model.layers]


def test_each_block_is_pretrained_and_the_chain_ends_calibrated(digits):
    x = digits[0]
    keras.utils.set_random_seed(0)
    model = deep_mlp()
    calibrated = keras.models.clone_model(model)
    calibrated.set_weights(model.get_weights())
    keras_ganinit.calibrate(calibrated, x)
    histories = keras_ganinit.pretrain_layerwise(
        model, x, block_size=3, steps=10, seed=0
    )
    assert len(histories) == 3  # 3 + 3 + 2 layers with a kernel
    for history in histories:
        assert len(history.history["g_loss"]) == 1
        assert np.isfinite(history.history["g_loss"][-1])
    # Every block moved away from the calibrated start.
    for trained, start in zip(kernels(model), kernels(calibrated), strict=True):
        assert np.abs(trained - start).max() > 1e-3
    # And the whole chain ends calibrated: tanh layers at std 0.5, centred.
    outputs = layer_outputs(model, x[:512])
    for name in ("d0", "d4", "d7"):
        pre = np.arctanh(np.clip(outputs[name], -0.999999, 0.999999))
        assert abs(pre.std(axis=0).mean() - 0.5) < 0.1, name


def test_a_seeded_run_repeats(digits):
    x = digits[0][:512]
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(1)
        model = deep_mlp(4)
        keras_ganinit.pretrain_layerwise(model, x, block_size=2, steps=2, seed=3)
        runs.append(kernels(model))
    for a, b in zip(*runs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_what_is_not_a_chain_is_refused(digits):
    x = digits[0][:128]
    inputs = keras.Input((64,))
    a = layers.Dense(8)(inputs)
    b = layers.Dense(8)(inputs)
    branched = keras.Model(inputs, layers.Add()([a, b]))
    with pytest.raises(ValueError, match="needs a chain of layers"):
        keras_ganinit.pretrain_layerwise(branched, x)
    nested = keras.Sequential([keras.Input((64,)), deep_mlp(2)])
    with pytest.raises(ValueError, match="nested model"):
        keras_ganinit.pretrain_layerwise(nested, x)
    with pytest.raises(ValueError, match="sets calibration= itself"):
        keras_ganinit.pretrain_layerwise(deep_mlp(2), x, calibration=False)
    with pytest.raises(ValueError, match="block_size must be an integer >= 1"):
        keras_ganinit.pretrain_layerwise(deep_mlp(2), x, block_size=0)
