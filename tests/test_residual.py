"""calibrate() keeps residual streams bounded with depth, and they train."""

import keras
import numpy as np
import pytest
from keras import layers

import keras_ganinit

_np = keras.ops.convert_to_numpy


def residual_mlp(depth, width=32, add_layer=False, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((64,))
    h = layers.Dense(width, name="stem")(inputs)
    for i in range(depth):
        branch = layers.Dense(width, activation="relu", name=f"b{i}_in")(h)
        branch = layers.Dense(width, name=f"b{i}_out")(branch)
        h = layers.Add(name=f"add{i}")([h, branch]) if add_layer else h + branch
    outputs = layers.Dense(10, activation="softmax", name="head")(h)
    return keras.Model(inputs, outputs)


def stream(model, x):
    report = keras_ganinit.activation_report(model, x)
    return [r["output_std"] for r in report.rows if r["class"] == "Add"]


@pytest.mark.parametrize("add_layer", [False, True])
def test_the_stream_stays_bounded_at_any_depth(digits, add_layer):
    x = digits[0][:256]
    for depth in (4, 32):
        model = residual_mlp(depth, add_layer=add_layer)
        report = keras_ganinit.calibrate(model, x)
        stds = stream(model, x)
        assert len(stds) == depth
        assert all(0.5 <= s <= 2.0 for s in stds), stds
        scaled = [r for r in report.rows if "residual branch" in str(r["kernel"])]
        assert [r["layer"] for r in scaled] == [f"b{i}_out" for i in range(depth)]
        for r in scaled:  # each branch at 1/sqrt(depth) of its stream
            assert r["target_std"] < 1.0
    # Without the damping (every branch at its stream's std), the stream
    # doubles its variance at each merge.
    undamped = residual_mlp(8, add_layer=add_layer)
    keras_ganinit.calibrate(undamped, x, residual_scale=1.0)
    assert stream(undamped, x)[-1] > 8.0
    with pytest.raises(ValueError, match="residual_scale must be None"):
        keras_ganinit.calibrate(undamped, x, residual_scale=0)


def test_a_deep_residual_mlp_trains_with_sgd_from_calibrate(digits):
    """The issue's case: without normalization, SGD with momentum."""
    x, y = digits
    model = residual_mlp(32, seed=1)
    keras_ganinit.calibrate(model, x, exclude="head")
    model.compile(
        keras.optimizers.SGD(0.01, momentum=0.9),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["accuracy"][-1] > 0.8


def test_post_ln_transformer_blocks_start_close_to_the_identity():
    keras.utils.set_random_seed(4)
    ids = np.random.default_rng(0).integers(0, 20, size=(64, 10))
    inputs = keras.Input((10,), dtype="int32")
    h = layers.Embedding(20, 16)(inputs)
    for _ in range(3):
        h = layers.LayerNormalization()(h + layers.MultiHeadAttention(2, 8)(h, h))
        f = layers.Dense(16)(layers.Dense(32, activation="gelu")(h))
        h = layers.LayerNormalization()(h + f)
    model = keras.Model(inputs, h)
    report = keras_ganinit.calibrate(model, ids)
    scaled = [r for r in report.rows if "residual branch" in str(r["kernel"])]
    assert [r["class"] for r in scaled] == ["MultiHeadAttention", "Dense"] * 3
    rows = keras_ganinit.activation_report(model, ids).rows
    merges = [r for r in rows if r["class"] == "Add"]
    # Each merge adds a branch of 1/sqrt(6) of its stream (std 1 after the
    # layer norm): about sqrt(1 + 1/6) = 1.08 if the two are uncorrelated.
    assert len(merges) == 6
    for r in merges:
        assert 0.9 < r["output_std"] < 1.2, r
    assert {r["why"] for r in report.left} == {
        "a normalization layer sets its own output scale from its input"
    }


def test_a_branch_ending_in_batch_normalization_is_scaled_by_its_gamma(digit_images):
    keras.utils.set_random_seed(6)
    inputs = keras.Input((8, 8, 1))
    h = layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    for i in range(4):
        branch = layers.Conv2D(8, 3, padding="same", activation="relu")(h)
        branch = layers.Conv2D(8, 3, padding="same", use_bias=False)(branch)
        branch = layers.BatchNormalization(name=f"bn{i}")(branch)
        h = layers.Add(name=f"add{i}")([h, branch])
    model = keras.Model(inputs, h)
    report = keras_ganinit.calibrate(model, digit_images[:128])
    assert not [r for r in report.rows if "residual branch" in str(r["kernel"])]
    for i in range(4):  # 1/sqrt(4) of the stream, through gamma and beta
        gamma = _np(model.get_layer(f"bn{i}").gamma)
        assert np.all((gamma > 0.2) & (gamma < 0.8)), gamma
    stds = stream(model, digit_images[:128])
    assert all(0.5 <= s <= 2.0 for s in stds), stds
