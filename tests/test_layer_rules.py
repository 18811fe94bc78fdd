"""calibrate() on recurrent, attention, embedding and time-distributed layers."""

import keras
import numpy as np
import pytest
from keras import layers

import keras_ganinit
from keras_ganinit._src.diagnostics.statistics import logit_spread

_np = keras.ops.convert_to_numpy


@pytest.fixture(scope="module")
def sequences(digits):
    """The digits read row by row: 8 steps of 8 pixels, centred."""
    x = digits[0][:256].reshape(-1, 8, 8)
    return (x - x.mean()) / x.std()


def blocks(matrix, count):
    return np.split(np.asarray(_np(matrix), dtype="float64"), count, axis=-1)


def spread(values):
    values = values.reshape(-1, values.shape[-1])
    return float(np.sqrt(np.mean(np.var(values, axis=0))))


def test_recurrent_gates_get_orthogonal_blocks_and_their_input_at_the_target(
    sequences,
):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8)),
            layers.LSTM(16, return_sequences=True, name="lstm"),
            layers.GRU(12, name="gru"),
            layers.Dense(4, name="head"),
        ]
    )
    report = keras_ganinit.calibrate(model, sequences)
    assert report.layers == ["lstm", "gru", "head"]
    assert not report.left
    starts = {r["layer"]: r["kernel"] for r in report.rows}
    assert "orthogonal blocks" in starts["lstm"] and "centred" in starts["gru"]
    lstm = model.get_layer("lstm").cell
    steps = sequences.reshape(-1, 8)
    bias = np.split(_np(lstm.bias), 4)
    kernels = zip(
        blocks(lstm.kernel, 4), blocks(lstm.recurrent_kernel, 4), bias, strict=True
    )
    for gate, (w, u, b) in enumerate(kernels):
        contribution = steps @ w
        # tanh layers get 0.5, as Dense tanh layers do.
        assert abs(spread(contribution) - 0.5) < 0.01
        np.testing.assert_allclose(u.T @ u, np.eye(16), atol=1e-4)
        # The bias centres the input's part; the forget gate starts at 1.
        offset = 1.0 if gate == 1 else 0.0
        np.testing.assert_allclose(
            contribution.mean(0) + b, offset, atol=1e-4, err_msg=str(gate)
        )
    # The GRU sees the LSTM's calibrated output sequences.
    inner = keras.Model(model.inputs, model.get_layer("lstm").output)
    hidden = _np(inner(sequences)).reshape(-1, 16)
    gru = model.get_layer("gru").cell
    for w in blocks(gru.kernel, 3):
        assert abs(spread(hidden @ w) - 0.5) < 0.01


def test_chrono_gates_and_wrappers(sequences):
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((8, 8)),
            layers.Bidirectional(layers.LSTM(8, return_sequences=True), name="bi"),
            layers.TimeDistributed(layers.Dense(6, activation="relu"), name="td"),
            layers.SimpleRNN(6, name="rnn"),
        ]
    )
    start = model.get_weights()
    report = keras_ganinit.calibrate(model, sequences, chrono=True, seed=3)
    assert report.layers == ["bi", "td", "rnn"]
    both = model.get_layer("bi")
    steps = sequences.reshape(-1, 8)
    for lstm in (both.forward_layer, both.backward_layer):
        kernel = blocks(lstm.cell.kernel, 4)
        bias = np.split(_np(lstm.cell.bias), 4)
        pairs = zip(bias, kernel, strict=True)
        i, f, _, _ = (b + (steps @ w).mean(0) for b, w in pairs)
        # log(u), u uniform in [1, steps - 1]: memories up to the sequence's length.
        assert np.all((f >= -1e-4) & (f <= np.log(7) + 1e-4)) and f.std() > 0.1
        np.testing.assert_allclose(i, -f, atol=1e-4)
    td = {r["layer"]: r for r in report.rows}["td"]
    assert abs(td["std_after"] - 1.0) < 0.03 and abs(td["mean_after"]) < 0.03
    # Seeded: the same start again.
    again = keras.models.clone_model(model)
    again.set_weights(start)
    keras_ganinit.calibrate(again, sequences, chrono=True, seed=3)
    for a, b in zip(model.weights, again.weights, strict=True):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-5)
    with pytest.raises(TypeError, match="chrono must be True or False"):
        keras_ganinit.calibrate(model, sequences, chrono="yes")


def test_attention_logits_get_a_sane_spread_masks_included(sequences):
    keras.utils.set_random_seed(2)
    inputs = keras.Input((8, 8))
    h = layers.Dense(16, name="embed")(inputs)
    a = layers.MultiHeadAttention(2, 8, name="mha")(
        query=h, value=h, key=h, use_causal_mask=True
    )
    model = keras.Model(inputs, layers.GlobalAveragePooling1D()(a))
    # A start whose logits are nearly one-hot.
    mha = model.get_layer("mha")
    mha.query_dense.kernel.assign(mha.query_dense.kernel * 30.0)
    before = keras_ganinit.activation_report(model, sequences)
    report = keras_ganinit.calibrate(model, sequences)
    assert report.layers == ["embed", "mha"]
    after = keras_ganinit.activation_report(model, sequences)
    entropy = {r["layer"]: r["attention_entropy"] for r in after.rows}
    assert entropy["embed"] is None
    old = {r["layer"]: r["attention_entropy"] for r in before.rows}["mha"]
    assert old < 0.5 < entropy["mha"] < 0.99
    _, scores = mha(h := model.get_layer("embed")(sequences), h, use_causal_mask=True,
                    return_attention_scores=True)  # fmt: skip
    scores = _np(scores).astype("float64")
    assert np.all(np.triu(scores[0, 0], 1) == 0)  # the mask held
    assert abs(logit_spread(scores) - 1.0) < 0.03
    row = {r["layer"]: r for r in report.rows}["mha"]
    assert abs(row["std_after"] - 1.0) < 0.03 and abs(row["mean_after"]) < 0.03
    assert "Attention entropy" in str(after) or "attention entropy" in str(after)


def test_embeddings_are_centred_at_unit_std_and_token_ids_raise_no_warning(recwarn):
    keras.utils.set_random_seed(3)
    ids = np.random.default_rng(0).integers(0, 50, size=(128, 12))
    model = keras.Sequential(
        [
            keras.Input((12,), dtype="int32"),
            layers.Embedding(50, 8, name="tokens"),
            layers.Conv1D(8, 3, activation="relu", name="conv"),
        ]
    )
    report = keras_ganinit.calibrate(model, ids)
    assert report.layers == ["tokens", "conv"]
    looked_up = _np(model.get_layer("tokens").embeddings)[ids].reshape(-1, 8)
    assert abs(spread(looked_up) - 1.0) < 0.01
    np.testing.assert_allclose(looked_up.mean(0), 0.0, atol=1e-4)
    assert not [w for w in recwarn if "unscaled" in str(w.message)]


def test_a_failing_recurrent_layer_changes_nothing():
    model = keras.Sequential([keras.Input((5, 3)), layers.LSTM(4, name="lstm")])
    before = [np.array(_np(w)) for w in model.weights]
    constant = np.ones((32, 5, 3), dtype="float32")
    with pytest.raises(ValueError, match="'lstm' outputs a constant.*No weight"):
        keras_ganinit.calibrate(model, constant)
    for old, new in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(old, _np(new))


def test_convolutional_recurrent_layers_and_gru_without_reset_after(sequences):
    keras.utils.set_random_seed(5)
    frames = sequences.reshape(-1, 8, 8, 1)  # 8 frames of 8 pixels, 1 channel
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.ConvLSTM1D(4, 3, padding="same", return_sequences=True, name="cl"),
            layers.Reshape((8, 32)),
            layers.GRU(6, reset_after=False, name="gru"),
        ]
    )
    report = keras_ganinit.calibrate(model, frames)
    assert report.layers == ["cl", "gru"]
    cell = model.get_layer("cl").cell
    for w in blocks(cell.kernel, 4):
        z = keras.ops.conv(
            keras.ops.convert_to_tensor(frames.reshape(-1, 8, 1)),
            keras.ops.convert_to_tensor(w.astype("float32")),
            padding="same",
        )
        assert abs(spread(_np(z)) - 0.5) < 0.01
    assert _np(model.get_layer("gru").cell.bias).shape == (18,)
