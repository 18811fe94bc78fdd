"""Pretraining sequence extractors: mirrors, recipes, tokens, masks, transfer."""

import math
import warnings

import keras
import numpy as np
import pytest
from keras import layers

import keras_ganinit
from keras_ganinit._src.pretraining.samples import Signals, Tokens

_np = keras.ops.convert_to_numpy


@pytest.fixture(scope="module")
def rows(digits):
    """The digits read row by row: 8 steps of 8 pixels, standardized."""
    x = digits[0][:384].reshape(-1, 8, 8)
    return ((x - x.mean()) / x.std()).astype("float32")


@pytest.fixture(scope="module")
def tokens(digits):
    """The digits as 32 token ids each: every other pixel's value, 0 to 16."""
    return np.asarray(digits[0][:384, ::2] * 16, "int32")


def _model(shape, body, dtype="float32", name="extractor"):
    inputs = keras.Input(shape, dtype=dtype)
    return keras.Model(inputs, body(inputs), name=name)


def _attention_block(h):
    attended = layers.MultiHeadAttention(2, 4, name="mha")(h, h, use_causal_mask=True)
    return layers.LayerNormalization(name="ln")(layers.Add()([h, attended]))


EXTRACTORS = {
    "lstm-last-state": lambda: _model((8, 8), layers.LSTM(12, name="lstm")),
    "gru-backwards": lambda: _model(
        (8, 8), layers.GRU(12, return_sequences=True, go_backwards=True, name="gru")
    ),
    "simple-rnn-stack": lambda: _model(
        (8, 8),
        lambda x: layers.SimpleRNN(6, name="rnn2")(
            layers.SimpleRNN(12, return_sequences=True, name="rnn1")(x)
        ),
    ),
    "masked-bidirectional": lambda: _model(
        (8, 8),
        lambda x: layers.Bidirectional(layers.LSTM(6), name="bi")(
            layers.Masking(0.0)(x)
        ),
    ),
    "attention-block": lambda: _model(
        (8, 8), lambda x: _attention_block(layers.Dense(8, name="proj")(x))
    ),
    "time-distributed": lambda: _model(
        (8, 8),
        lambda x: layers.GRU(6, name="gru")(
            layers.TimeDistributed(layers.Dense(5, activation="relu"), name="td")(x)
        ),
    ),
    "grouped-query-attention": lambda: _model(
        (8, 8), lambda x: layers.GroupQueryAttention(4, 4, 2, name="gqa")(x, x)
    ),
    "dot-product-attention": lambda: _model(
        (8, 8), lambda x: layers.Attention(use_scale=True, name="att")([x, x])
    ),
    "causal-tcn": lambda: _model(
        (8, 8),
        lambda x: layers.Conv1D(6, 3, dilation_rate=2, padding="causal", name="c2")(
            layers.Conv1D(6, 3, padding="causal", name="c1")(x)
        ),
    ),
}


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("kind", EXTRACTORS)
def test_sequence_extractors_mirror_back_to_their_input_shape(kind, tied, rows):
    extractor = EXTRACTORS[kind]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # recurrent mirrors cannot be tied
        decoder = keras_ganinit.mirror(extractor, tied=tied, seed=0)
    assert decoder.output_shape == (None, 8, 8)
    generated = _np(decoder(extractor(rows[:4])))
    assert generated.shape == (4, 8, 8) and np.isfinite(generated).all()


def test_an_embedding_mirrors_to_token_logits_tied_to_its_matrix(tokens):
    extractor = _model(
        (32,),
        lambda x: layers.GRU(8, name="gru")(layers.Embedding(17, 6, name="emb")(x)),
        dtype="int32",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gan = keras_ganinit.GanInitModel(
            extractor, decoder=keras_ganinit.mirror(extractor, tied=True), seed=0
        )
    assert gan.decoder.output_shape == (None, 32, 17)
    assert gan.discriminator.input_shape == (None, 32, 17)
    tied = gan.decoder.get_layer("emb_mirror")
    matrix = _np(extractor.get_layer("emb").embeddings)
    np.testing.assert_allclose(_np(tied.kernel), matrix.T)


def test_a_causal_convolution_mirrors_to_its_adjoint():
    """The tied mirror of a linear causal stack is its transpose: <f x, y> =
    <x, f^T y>, which holds only with the left padding cropped."""
    keras.utils.set_random_seed(1)
    extractor = _model(
        (16, 3),
        lambda x: layers.Conv1D(
            4, 3, dilation_rate=2, padding="causal", use_bias=False, name="c2"
        )(layers.Conv1D(5, 3, padding="causal", use_bias=False, name="c1")(x)),
    )
    decoder = keras_ganinit.mirror(extractor, tied=True)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 16, 3)).astype("float32")
    y = rng.normal(size=(2, 16, 4)).astype("float32")
    forward = float(np.sum(_np(extractor(x)) * y))
    backward = float(np.sum(x * _np(decoder(y))))
    assert forward == pytest.approx(backward, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize(
    "build, layer",
    [
        (
            lambda: _model((8, 8), layers.RNN(layers.SimpleRNNCell(4), name="cell")),
            "'cell' of class RNN",
        ),
        (
            lambda: _model((8, 8, 1), layers.ConvLSTM1D(2, 3, name="convlstm")),
            "'convlstm' of class ConvLSTM1D",
        ),
        (
            lambda: _model(
                (8, 8),
                lambda x: layers.MultiHeadAttention(2, 4, name="cross")(
                    x, layers.Dense(8)(x)
                ),
            ),
            "'cross' of class MultiHeadAttention.*cross-attention",
        ),
    ],
)
def test_sequence_layers_without_a_mirror_are_named(build, layer):
    with pytest.raises(ValueError, match=f"{layer}.*decoder="):
        keras_ganinit.GanInitModel(build())


def test_padded_steps_count_neither_in_the_loss_nor_for_the_discriminator():
    form = Signals(mask_value=0.0)
    x = np.ones((2, 4, 3), "float32")
    x[0, 2:] = 0.0  # the first sequence has two padded steps
    generated = keras.ops.convert_to_tensor(np.full((2, 4, 3), 3.0, "float32"))
    x = keras.ops.convert_to_tensor(x)
    mask = form.mask(x)
    assert _np(mask).tolist() == [[True, True, False, False], [True] * 4]
    assert float(_np(form.reconstruction(generated, x, mask))) == pytest.approx(2.0)
    fake = _np(form.fake(generated, x, mask))
    np.testing.assert_array_equal(fake[0, 2:], 0.0)
    np.testing.assert_array_equal(fake[1], 3.0)
    ids = keras.ops.convert_to_tensor(np.array([[3, 1, 0, 0]]))
    logits = keras.ops.zeros((1, 4, 5))
    padded = Tokens(5, mask_zero=True)
    loss = float(_np(padded.reconstruction(logits, ids, padded.mask(ids))))
    assert loss == pytest.approx(math.log(5), rel=1e-5)
    fake = _np(padded.fake(logits, ids, padded.mask(ids)))
    np.testing.assert_allclose(fake[0, 0], 0.2)
    np.testing.assert_array_equal(fake[0, 2], [1, 0, 0, 0, 0])


@pytest.fixture(scope="module")
def row_autoencoder(rows):
    return _pretrained(EXTRACTORS["lstm-last-state"], rows, 4, recipe="autoencoder")


def _pretrained(build, x, epochs, **options):
    """(a GanInitModel of `build()` fitted on `x` with Adam(1e-2), its logs)."""
    keras.utils.set_random_seed(0)
    gan = keras_ganinit.GanInitModel(build(), seed=0, **options)
    gan.compile(generator_optimizer=keras.optimizers.Adam(1e-2))
    history = gan.fit(x, epochs=epochs, batch_size=32, verbose=0)
    return gan, history.history


def test_the_sequence_autoencoder_learns_the_rows(row_autoencoder):
    gan, history = row_autoencoder
    losses = history["reconstruction_loss"]
    assert losses[-1] < 0.8 * losses[0], losses
    assert set(history["d_loss"]) == {0.0}  # no discriminator plays
    assert gan.calibrated and gan.fell_back is False


@pytest.fixture(scope="module")
def token_gan(tokens):
    def build():
        return _model(
            (32,),
            lambda x: layers.GRU(16, return_sequences=True, name="gru")(
                layers.Embedding(17, 8, name="emb")(x)
            ),
            dtype="int32",
        )

    return _pretrained(build, tokens, 3)


def test_a_token_extractor_pretrains_as_a_gan(token_gan):
    gan, history = token_gan
    # The cross-entropy: ln 17 = 2.83 at the start, 2.04 for the ids' own
    # frequencies (what a model that ignores its input can reach).
    losses = history["reconstruction_loss"]
    assert losses[-1] < 0.8 * 2.04, losses
    assert all(np.isfinite(history["d_loss"])) and min(history["d_loss"]) > 0
    assert gan.calibrated


def test_token_and_sequence_extractors_transfer_and_load(token_gan, tmp_path):
    gan, _ = token_gan
    path = str(tmp_path / "tokens.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    for a, b in zip(loaded.extractor.weights, gan.extractor.weights, strict=True):
        np.testing.assert_array_equal(_np(a), _np(b))

    def classifier():
        inputs = keras.Input((32,), dtype="int32")
        h = layers.Embedding(17, 8, name="emb")(inputs)
        h = layers.GRU(16, name="gru")(h)
        return keras.Model(inputs, layers.Dense(10, name="head")(h))

    started = keras_ganinit.with_pretrained_initializers(classifier(), path)
    for name in ("emb", "gru"):
        for a, b in zip(
            started.get_layer(name).weights,
            gan.extractor.get_layer(name).weights,
            strict=True,
        ):
            np.testing.assert_array_equal(_np(a), _np(b))
    started.save(str(tmp_path / "started.keras"))
    again = keras.saving.load_model(str(tmp_path / "started.keras"))
    np.testing.assert_array_equal(
        _np(again.get_layer("gru").weights[1]), _np(started.get_layer("gru").weights[1])
    )


def test_recurrent_kernels_have_initializers_of_their_own(token_gan):
    gan, _ = token_gan

    def init(variable):
        return keras_ganinit.GanPretrainedInitializer(
            source=gan, layer="gru", variable=variable
        )

    gru = layers.GRU(
        16,
        kernel_initializer=init("kernel"),
        recurrent_initializer=init("recurrent_kernel"),
        bias_initializer=init("bias"),
    )
    gru.build((None, 32, 8))
    for a, b in zip(gru.weights, gan.extractor.get_layer("gru").weights, strict=True):
        np.testing.assert_array_equal(_np(a), _np(b))
    embedding = layers.Embedding(
        17, 8, embeddings_initializer=init("kernel").__class__(gan, "emb", "embeddings")
    )
    embedding.build((None, 32))
    np.testing.assert_array_equal(
        _np(embedding.embeddings), _np(gan.extractor.get_layer("emb").embeddings)
    )


def test_an_lstm_bias_with_unit_forget_bias_says_what_to_do(row_autoencoder):
    gan, _ = row_autoencoder
    init = keras_ganinit.GanPretrainedInitializer(
        source=gan, layer="lstm", variable="bias"
    )
    with pytest.raises(ValueError, match="unit_forget_bias=False"):
        layers.LSTM(12, bias_initializer=init).build((None, 8, 8))
    lstm = layers.LSTM(12, bias_initializer=init, unit_forget_bias=False)
    lstm.build((None, 8, 8))
    np.testing.assert_array_equal(
        _np(lstm.weights[2]), _np(gan.extractor.get_layer("lstm").weights[2])
    )


def test_composite_layers_transfer_every_part(rows):
    def build():
        inputs = keras.Input((8, 8))
        h = layers.Bidirectional(layers.GRU(6, return_sequences=True), name="bi")(
            inputs
        )
        h = _attention_block(h)
        h = layers.TimeDistributed(layers.Dense(5), name="td")(h)
        return keras.Model(inputs, layers.GlobalAveragePooling1D()(h), name="ext")

    keras.utils.set_random_seed(2)
    source = build()
    keras.utils.set_random_seed(3)
    started = keras_ganinit.with_pretrained_initializers(build(), source)
    assert len(started.weights) == len(source.weights) == 18
    for a, b in zip(started.weights, source.weights, strict=True):
        np.testing.assert_array_equal(_np(a), _np(b))


def test_next_step_trains_a_causal_extractor_that_transfers(rows):
    keras.utils.set_random_seed(0)
    pretrained = _model((8, 8), layers.GRU(12, return_sequences=True, name="gru"))
    gan = keras_ganinit.GanInitModel(pretrained, recipe="next_step", seed=0)
    assert gan.decoder.output_shape == (None, 8, 8)
    gan.compile(generator_optimizer=keras.optimizers.Adam(1e-2))
    losses = gan.fit(rows, epochs=3, batch_size=32, verbose=0).history[
        "reconstruction_loss"
    ]
    assert losses[-1] < 0.9 * losses[0], losses
    classifier = _model((8, 8), layers.GRU(12, name="gru"))  # its last state only
    started = keras_ganinit.with_pretrained_initializers(classifier, gan)
    for a, b in zip(started.weights, pretrained.weights, strict=True):
        np.testing.assert_array_equal(_np(a), _np(b))


@pytest.mark.parametrize(
    "build, words",
    [
        (
            lambda: _model(
                (8, 8),
                layers.Bidirectional(layers.GRU(4, return_sequences=True)),
            ),
            "is not causal",
        ),
        (
            lambda: _model(
                (8, 8),
                lambda x: layers.MultiHeadAttention(2, 4)(x, x),
            ),
            "is not causal",
        ),
        (lambda: _model((8, 8), layers.GRU(4)), r"outputs shape \(4,\)"),
    ],
)
def test_next_step_refuses_extractors_that_see_the_future(build, words):
    with pytest.raises(ValueError, match=f"recipe='next_step'.*{words}"):
        keras_ganinit.GanInitModel(build(), recipe="next_step")


def test_a_recipe_without_a_discriminator_needs_its_reconstruction():
    with pytest.raises(ValueError, match="nothing to train"):
        keras_ganinit.GanInitModel(
            EXTRACTORS["lstm-last-state"](),
            recipe="autoencoder",
            reconstruction_weight=0.0,
        )


def test_a_pretrained_sequence_extractor_is_probed_and_pictured(
    row_autoencoder, token_gan, rows, tokens, digits, tmp_path
):
    gan, _ = row_autoencoder
    y = digits[1][:384]
    probe = keras_ganinit.linear_probe(
        gan.extractor, rows[:256], y[:256], validation_data=(rows[256:], y[256:])
    )
    assert probe.accuracy > 0.5  # chance is 0.1
    from keras_ganinit.callbacks import Reconstructions

    for model, x in ((gan, rows), (token_gan[0], tokens)):
        pictures = Reconstructions(x[:4], str(tmp_path / model.extractor.name))
        pictures.set_model(model)
        pictures.on_train_begin()
        pictures._write(0)
        assert len(pictures.written) == 1


class TokenAndPositions(layers.Layer):
    """A custom token-and-position embedding, as Keras's text tutorials write
    it: two Embeddings inside a layer of one's own."""

    def __init__(self, steps, vocabulary, width, **kwargs):
        super().__init__(**kwargs)
        self.tokens = layers.Embedding(vocabulary, width)
        self.positions = layers.Embedding(steps, width)

    def call(self, ids):
        return self.tokens(ids) + self.positions(keras.ops.arange(ids.shape[-1]))


def test_a_custom_token_and_position_embedding_pretrains_and_transfers(tokens):
    def build():
        inputs = keras.Input((32,), dtype="int32")
        h = TokenAndPositions(32, 17, 8, name="embed")(inputs)
        h = _attention_block(h)
        return keras.Model(inputs, layers.GlobalAveragePooling1D()(h), name="ext")

    keras.utils.set_random_seed(0)
    gan = keras_ganinit.GanInitModel(build(), seed=0)
    # Logits over its largest table, which covers every id: here the
    # positions' (32), not the 17 tokens'.
    assert gan.decoder.output_shape == (None, 32, 32)
    gan.compile()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # calibrate leaves the custom layer
        gan.fit(tokens[:64], steps=2, batch_size=32, verbose=0)
    started = keras_ganinit.with_pretrained_initializers(build(), gan.extractor)
    assert len(started.weights) == 12
    for a, b in zip(started.weights, gan.extractor.weights, strict=True):
        np.testing.assert_array_equal(_np(a), _np(b))


def test_a_sequence_of_unknown_length_says_to_pad_and_mask():
    with pytest.raises(ValueError, match="pad sequences.*mask"):
        keras_ganinit.GanInitModel(_model((None, 3), layers.GRU(4)))
