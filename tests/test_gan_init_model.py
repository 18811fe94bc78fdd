"""GanInitModel: alternating GAN training in ordinary fit workflows."""

import csv
import inspect
import json
import warnings
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import conv_extractor, dense_extractor, large_on_jax, same
from keras import layers

import keras_ganinit


def kernels(*models):
    return [
        keras.ops.convert_to_numpy(v).copy()
        for m in models
        for v in m.trainable_variables
    ]


def changed(before, *models):
    return [
        not np.array_equal(b, a) for b, a in zip(before, kernels(*models), strict=True)
    ]


def test_fit_trains_both_players_and_logs_the_losses(trained_gan):
    history = trained_gan.history_.history
    assert sorted(history) == ["d_loss", "g_loss", "loss", "reconstruction_loss"]
    assert all(len(v) == 3 and np.all(np.isfinite(v)) for v in history.values())
    assert trained_gan.generator_optimizer.iterations.numpy() == 3 * 29
    assert trained_gan.discriminator_optimizer.iterations.numpy() == 3 * 29


def test_parts_are_reachable_and_generator_gives_back_the_input_shape(
    trained_gan, digits
):
    assert trained_gan.extractor.name == "extractor"
    assert trained_gan.decoder.output_shape == (None, 64)
    assert trained_gan.discriminator.output_shape == (None, 1)
    out = trained_gan.predict(digits[0][:5], verbose=0)
    assert out.shape == (5, 64)
    features = trained_gan.extractor(digits[0][:5])
    decoded = keras.ops.convert_to_numpy(trained_gan.decoder(features))
    assert np.allclose(out, decoded, atol=1e-6)


def test_one_step_updates_every_weight_of_both_players(digits):
    gan = keras_ganinit.GanInitModel(dense_extractor())
    gan.compile()
    before = kernels(gan)
    gan.train_on_batch(digits[0][:64])
    assert all(changed(before, gan))


def test_discriminator_step_lowers_d_loss_when_generator_is_frozen(digits):
    keras.utils.set_random_seed(1)
    gan = keras_ganinit.GanInitModel(dense_extractor())
    gan.compile(
        generator_optimizer=keras.optimizers.SGD(0.0),
        discriminator_optimizer=keras.optimizers.Adam(1e-3),
    )
    batch = digits[0][:128]
    first = gan.evaluate(batch, verbose=0, return_dict=True)["d_loss"]
    generator_before = kernels(gan.extractor, gan.decoder)
    for _ in range(40):
        gan.train_on_batch(batch)
    last = gan.evaluate(batch, verbose=0, return_dict=True)["d_loss"]
    assert last < 0.5 * first
    assert not any(changed(generator_before, gan.extractor, gan.decoder))


def test_generator_step_fools_a_frozen_discriminator(digits):
    keras.utils.set_random_seed(2)
    gan = keras_ganinit.GanInitModel(dense_extractor())
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(1e-3),
        discriminator_optimizer=keras.optimizers.SGD(0.0),
    )
    batch = digits[0][:128]
    first = gan.evaluate(batch, verbose=0, return_dict=True)["g_loss"]
    discriminator_before = kernels(gan.discriminator)
    for _ in range(40):
        gan.train_on_batch(batch)
    last = gan.evaluate(batch, verbose=0, return_dict=True)["g_loss"]
    assert last < 0.5 * first
    assert not any(changed(discriminator_before, gan.discriminator))


def test_reconstruction_weight_teaches_the_generator_to_reconstruct(digits):
    keras.utils.set_random_seed(3)
    gan = keras_ganinit.GanInitModel(dense_extractor(), reconstruction_weight=10.0)
    gan.compile(generator_optimizer=keras.optimizers.Adam(2e-3))
    history = gan.fit(digits[0], epochs=6, batch_size=64, verbose=0).history
    assert history["reconstruction_loss"][-1] < 0.5 * history["reconstruction_loss"][0]


def test_validation_data_and_labels_datasets_and_pydataset(digits):
    x, y = digits
    gan = keras_ganinit.GanInitModel(dense_extractor())
    gan.compile()
    history = gan.fit(
        x[:256],
        y[:256],
        validation_data=(x[256:384], y[256:384]),
        epochs=1,
        batch_size=64,
        verbose=0,
    ).history
    assert {"val_d_loss", "val_g_loss", "val_reconstruction_loss"} <= set(history)

    dataset = tf.data.Dataset.from_tensor_slices((x[:256], y[:256])).batch(64)
    assert np.isfinite(gan.fit(dataset, epochs=1, verbose=0).history["g_loss"][0])

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return x[index * 64 : (index + 1) * 64]

    steps_before = gan.generator_optimizer.iterations.numpy()
    gan.fit(Batches(), epochs=1, verbose=0)
    assert gan.generator_optimizer.iterations.numpy() == steps_before + 4


def test_callbacks_behave_as_for_any_model(digits, tmp_path):
    gan = keras_ganinit.GanInitModel(dense_extractor())
    gan.compile()
    log = tmp_path / "log.csv"
    checkpoint = tmp_path / "ckpt.keras"
    history = gan.fit(
        digits[0][:512],
        validation_data=(digits[0][512:640],),
        epochs=5,
        batch_size=64,
        verbose=0,
        callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_d_loss", patience=0, mode="max"),
            keras.callbacks.ModelCheckpoint(checkpoint),
            keras.callbacks.CSVLogger(log),
            keras.callbacks.TensorBoard(tmp_path / "tb"),
        ],
    )
    epochs = len(history.history["d_loss"])
    with open(log) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == epochs and {"d_loss", "g_loss", "val_g_loss"} <= set(rows[0])
    assert any((tmp_path / "tb").rglob("events.out.tfevents.*"))
    restored = keras.saving.load_model(checkpoint)
    assert isinstance(restored, keras_ganinit.GanInitModel)


def test_save_and_load_round_trip_keeps_weights_outputs_and_compilation(
    saved_gan, digits
):
    path, gan = saved_gan
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, keras_ganinit.GanInitModel)
    for a, b in zip(gan.weights, loaded.weights, strict=True):
        assert same(a, b)
    assert same(
        gan.predict(digits[0][:32], verbose=0),
        loaded.predict(digits[0][:32], verbose=0),
    )
    assert loaded.compiled
    assert (
        loaded.generator_optimizer.iterations.numpy()
        == gan.generator_optimizer.iterations.numpy()
    )
    assert json.dumps(loaded.get_config(), sort_keys=True) == json.dumps(
        gan.get_config(), sort_keys=True
    )
    history = loaded.fit(digits[0][:256], epochs=1, batch_size=64, verbose=0).history
    assert np.isfinite(history["d_loss"][0])
    assert (
        loaded.generator_optimizer.iterations.numpy()
        == gan.generator_optimizer.iterations.numpy() + 4
    )


def test_compile_defaults_and_custom_optimizers():
    gan = keras_ganinit.GanInitModel(dense_extractor())
    gan.compile()
    for optimizer in (gan.generator_optimizer, gan.discriminator_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert np.isclose(float(optimizer.learning_rate), 2e-4)
        assert np.isclose(optimizer.beta_1, 0.5)
    assert gan.generator_optimizer is not gan.discriminator_optimizer
    gan.compile(
        generator_optimizer="sgd", discriminator_optimizer=keras.optimizers.RMSprop()
    )
    assert isinstance(gan.generator_optimizer, keras.optimizers.SGD)
    assert isinstance(gan.discriminator_optimizer, keras.optimizers.RMSprop)


@large_on_jax
def test_conv2d_extractor_on_digit_images(digit_images, digits):
    keras.utils.set_random_seed(4)
    gan = keras_ganinit.GanInitModel(conv_extractor())
    gan.compile()
    history = gan.fit(digit_images[:512], epochs=2, batch_size=64, verbose=0).history
    assert np.all(np.isfinite(history["g_loss"]))
    assert gan.predict(digit_images[:4], verbose=0).shape == (4, 8, 8, 1)
    assert [type(layer).__name__ for layer in gan.discriminator.layers][0] == "Conv2D"
    classifier = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(
                8,
                3,
                padding="same",
                activation="relu",
                kernel_initializer=gan.initializer("conv1"),
            ),
            layers.MaxPooling2D(2),
            layers.Conv2D(
                16,
                3,
                activation="relu",
                kernel_initializer=gan.initializer(1),
                bias_initializer=gan.initializer(1, variable="bias"),
            ),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    assert same(classifier.layers[0].kernel, gan.extractor.get_layer("conv1").kernel)
    assert same(classifier.layers[2].kernel, gan.extractor.get_layer("conv2").kernel)
    assert same(classifier.layers[2].bias, gan.extractor.get_layer("conv2").bias)
    classifier.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = classifier.fit(digit_images, digits[1], epochs=2, verbose=0).history
    assert history["accuracy"][-1] > 0.5


def test_user_discriminator_and_decoder_are_used(digits):
    discriminator = keras.Sequential(
        [keras.Input((64,)), layers.Dense(16, activation="relu"), layers.Dense(1)],
        name="my_d",
    )
    decoder = keras.Sequential(
        [keras.Input((32,)), layers.Dense(64)], name="my_decoder"
    )
    gan = keras_ganinit.GanInitModel(
        dense_extractor(), discriminator=discriminator, decoder=decoder
    )
    assert gan.discriminator is discriminator and gan.decoder is decoder
    gan.compile()
    before = kernels(decoder)
    gan.fit(digits[0][:128], epochs=1, verbose=0)
    assert all(changed(before, decoder))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"extractor": "dense"}, TypeError, "must be a keras.Model"),
        (
            {"extractor": keras.Sequential([layers.Dense(4)])},
            ValueError,
            "no known input shape",
        ),
        (
            {"discriminator": keras.Sequential([keras.Input((64,)), layers.Dense(3)])},
            ValueError,
            "one logit per sample",
        ),
        (
            {"discriminator": keras.Sequential([keras.Input((10,)), layers.Dense(1)])},
            ValueError,
            "cannot take a batch",
        ),
        (
            {"decoder": keras.Sequential([keras.Input((32,)), layers.Dense(60)])},
            ValueError,
            "extractor's input shape (64,)",
        ),
        ({"reconstruction_weight": -1}, ValueError, "reconstruction_weight must be"),
        ({"calibration_target_std": 0}, ValueError, "Pass 1.0 to give tanh"),
        ({"calibration_target_std": "big"}, ValueError, "a number > 0 and at most"),
        ({"calibration_target_std": True}, ValueError, "calibration_target_std must"),
        (
            {"reconstruction_weight": "much"},
            ValueError,
            "reconstruction_weight must be",
        ),
    ],
)
def test_bad_constructor_arguments_are_explained(kwargs, error, words):
    kwargs = {"extractor": dense_extractor(), **kwargs}
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        keras_ganinit.GanInitModel(**kwargs)


def test_an_extractor_that_cannot_be_mirrored_names_the_layer():
    extractor = keras.Sequential(
        [
            keras.Input((6, 3)),
            layers.RNN(layers.SimpleRNNCell(4), name="custom"),
        ]
    )
    with pytest.raises(ValueError, match="'custom' of class RNN.*decoder="):
        keras_ganinit.GanInitModel(extractor)


def test_bad_compile_arguments_are_explained():
    gan = keras_ganinit.GanInitModel(dense_extractor())
    with pytest.raises(ValueError, match="does not take loss"):
        gan.compile(loss="mse")
    shared = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="same object"):
        gan.compile(generator_optimizer=shared, discriminator_optimizer=shared)
    with pytest.raises(ValueError, match="optimizer"):
        gan.compile(generator_optimizer="no_such_optimizer")


def test_recipes_set_the_defaults_and_explicit_arguments_win():
    paper = keras_ganinit.GanInitModel(dense_extractor(), recipe="paper")
    assert (paper.reconstruction_weight, paper.calibration) == (0.0, False)
    default = keras_ganinit.GanInitModel(dense_extractor())
    assert (default.recipe, default.adversarial_loss) == ("default", "non_saturating")
    assert (default.reconstruction_weight, default.calibration) == (1.0, True)
    mixed = keras_ganinit.GanInitModel(
        dense_extractor(), recipe="paper", reconstruction_weight=2.0
    )
    assert (mixed.reconstruction_weight, mixed.calibration) == (2.0, False)
    config = mixed.get_config()
    assert (config["recipe"], config["reconstruction_weight"]) == ("paper", 2.0)
    with pytest.raises(ValueError, match="recipe must be one of.*'paper'"):
        keras_ganinit.GanInitModel(dense_extractor(), recipe="fast")
    with pytest.raises(ValueError, match="adversarial_loss must be one of"):
        keras_ganinit.GanInitModel(dense_extractor(), adversarial_loss="wgan")


def test_every_constructor_argument_is_an_attribute_of_the_same_name():
    gan = keras_ganinit.GanInitModel(dense_extractor(), seed=3)
    config = gan.get_config()
    arguments = inspect.signature(keras_ganinit.GanInitModel).parameters
    for name in arguments:
        if name == "kwargs":
            continue
        assert name in config
        value = getattr(gan, name)
        if isinstance(value, keras.Model):
            assert config[name]["class_name"] in ("Sequential", "Functional")
        else:
            assert config[name] == value


def test_0_1_arguments_still_work_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning) as caught:
        gan = keras_ganinit.GanInitModel(
            dense_extractor(),
            preset="paper",
            calibrate=True,
            feature_matching=True,
            tied_weights=True,
            input_noise=0.0,
        )
    messages = " ".join(str(w.message) for w in caught)
    for advice in (
        "recipe='paper'",
        "calibration=True",
        "adversarial_loss='feature_matching'",
        "decoder=keras_ganinit.mirror(extractor, tied=True)",
        "input_noise=0 changes nothing",
    ):
        assert advice in messages
    assert (gan.recipe, gan.calibration) == ("paper", True)
    assert gan.adversarial_loss == "feature_matching"
    assert all("kernel" not in v.path for v in gan.decoder.trainable_variables)
    with pytest.raises(ValueError, match=r"GaussianNoise\(0.2\)"):
        keras_ganinit.GanInitModel(dense_extractor(), input_noise=0.2)
    decoder = keras_ganinit.mirror(dense_extractor())
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="mirror"):
        keras_ganinit.GanInitModel(
            dense_extractor(), decoder=decoder, tied_weights=True
        )
    with pytest.raises(TypeError, match="calibration must be True, False or None"):
        keras_ganinit.GanInitModel(dense_extractor(), calibration="yes")


def _as_saved_by_0_1(path, old_path, **options):
    """Rewrites a .keras file's config with 0.1's option names."""
    with zipfile.ZipFile(path) as new, zipfile.ZipFile(old_path, "w") as old:
        for item in new.infolist():
            data = new.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                for key in ("adversarial_loss", "calibration", "recipe"):
                    del config["config"][key]
                config["config"].update(options)
                data = json.dumps(config).encode()
            old.writestr(item, data)


def test_a_model_saved_by_0_1_loads(tmp_path):
    gan = keras_ganinit.GanInitModel(dense_extractor(), recipe="paper")
    path, old_path = str(tmp_path / "new.keras"), str(tmp_path / "old.keras")
    gan.save(path)
    old_options = dict(
        preset="paper", calibrate=False, input_noise=0.0, tied_weights=False
    )
    _as_saved_by_0_1(path, old_path, feature_matching=True, **old_options)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = keras.saving.load_model(old_path)
    assert (loaded.recipe, loaded.calibration) == ("paper", False)
    assert loaded.adversarial_loss == "feature_matching"
    x = np.random.default_rng(0).random((4, 64)).astype("float32")
    expected = keras.ops.convert_to_numpy(gan(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), expected)
    old_options["input_noise"] = 0.1
    _as_saved_by_0_1(path, old_path, **old_options)
    with pytest.warns(UserWarning, match="saved with input_noise=0.1.*GaussianNoise"):
        noisy = keras.saving.load_model(old_path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(noisy(x)), expected)


def test_a_gaussian_noise_layer_makes_a_denoising_generator(digits):
    extractor = dense_extractor()
    noisy = keras.Sequential(
        [keras.Input((64,)), layers.GaussianNoise(0.2, seed=0), extractor]
    )
    gan = keras_ganinit.GanInitModel(noisy, calibration=False)
    gan.compile()
    history = gan.fit(digits[0][:256], steps=4, verbose=0).history
    assert np.isfinite(history["g_loss"][0])
    # The noise acts only while training: two evaluations agree up to float
    # rounding (TensorFlow's threaded CPU kernels may differ in the last bits),
    # where noise of std 0.2 on the input would move every loss by far more.
    first = gan.evaluate(digits[0][:64], verbose=0, return_dict=True)
    again = gan.evaluate(digits[0][:64], verbose=0, return_dict=True)
    assert again == pytest.approx(first, rel=1e-6)
    init = keras_ganinit.GanPretrainedInitializer(source=gan, layer="fe1")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(init((64, 128))),
        keras.ops.convert_to_numpy(extractor.get_layer("fe1").kernel),
    )


def layer_outputs(extractor, x):
    """Each kernel layer's output (before its activation) on `x`."""
    outputs = []
    for layer in extractor.layers:
        probe = keras.Model(extractor.inputs[0], layer.output)
        activation, layer.activation = layer.activation, keras.activations.linear
        outputs.append(keras.ops.convert_to_numpy(probe(x)))
        layer.activation = activation
    return outputs


def layer_output_stds(extractor, x):
    return [float(np.std(output)) for output in layer_outputs(extractor, x)]


def test_default_fit_ends_with_calibrated_orthogonal_kernels(digits):
    gan = keras_ganinit.GanInitModel(dense_extractor())
    assert gan.calibration
    gan.compile()
    gan.fit(digits[0], epochs=1, batch_size=64, verbose=0)
    outputs = layer_outputs(gan.extractor, digits[0][:512])
    assert all(abs(np.std(output) - 1.0) <= 0.02 for output in outputs)
    # every unit centered by its bias: zero mean on the calibration batch
    assert all(np.abs(output.mean(0)).max() <= 0.02 for output in outputs)
    for layer in gan.extractor.layers:
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        singular = np.linalg.svd(kernel, compute_uv=False)
        assert singular.max() / singular.min() < 1.0001  # orthogonal, then scaled


def test_calibration_targets_half_unit_std_for_tanh_and_unit_std_otherwise(digits):
    extractor = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(32, activation="tanh", name="fe1"),
            layers.Dense(16, name="fe2"),
        ]
    )
    gan = keras_ganinit.GanInitModel(extractor)
    assert gan.calibrate(digits[0][:512]) is gan
    outputs = layer_outputs(gan.extractor, digits[0][:512])
    assert abs(np.std(outputs[0]) - 0.5) <= 0.02
    assert abs(np.std(outputs[1]) - 1.0) <= 0.02
    assert all(np.abs(output.mean(0)).max() <= 0.02 for output in outputs)


def test_calibration_target_std_sets_every_layer_and_is_saved(digits):
    extractor = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(32, activation="tanh", name="fe1"),
            layers.Dense(16, name="fe2"),
        ]
    )
    gan = keras_ganinit.GanInitModel(extractor, calibration_target_std=1.0)
    gan.calibrate(digits[0][:512])
    outputs = layer_outputs(gan.extractor, digits[0][:512])
    assert [round(float(np.std(o)), 1) for o in outputs] == [1.0, 1.0]
    assert all(np.abs(output.mean(0)).max() <= 0.02 for output in outputs)
    config = gan.get_config()
    assert config["calibration_target_std"] == 1.0
    assert keras_ganinit.GanInitModel.from_config(config).calibration_target_std == 1
    assert keras_ganinit.GanInitModel(dense_extractor()).calibration_target_std is None
    numpy_number = keras_ganinit.GanInitModel(
        dense_extractor(), calibration_target_std=np.float32(0.8)
    )
    assert numpy_number.calibration_target_std == pytest.approx(0.8)


def test_calibration_follows_the_data_fit_was_given(digits):
    x = digits[0]
    dataset = tf.data.Dataset.from_tensor_slices((x, digits[1])).batch(100)
    for data in (dataset, x):
        gan = keras_ganinit.GanInitModel(dense_extractor())
        gan.compile()
        gan.fit(data, epochs=1, verbose=0)
        stds = layer_output_stds(gan.extractor, x[:512])
        assert all(abs(std - 1.0) <= 0.02 for std in stds)


def test_paper_recipe_and_no_calibration_keep_the_kernels_as_trained(digits):
    for kwargs in ({"recipe": "paper"}, {"calibration": False}):
        gan = keras_ganinit.GanInitModel(dense_extractor(), **kwargs)
        gan.compile()
        gan.fit(digits[0][:256], epochs=1, verbose=0)
        stds = layer_output_stds(gan.extractor, digits[0][:512])
        assert any(abs(std - 1.0) > 0.05 for std in stds)


def test_a_generator_input_cannot_be_sampled_and_says_so(digits):
    def batches():
        for i in range(4):
            yield (digits[0][i * 64 : (i + 1) * 64],)

    gan = keras_ganinit.GanInitModel(dense_extractor())
    gan.compile()
    with pytest.warns(UserWarning, match="not calibrated.*gan.calibrate"):
        gan.fit(batches(), epochs=1, verbose=0)


def test_feature_matching_pulls_generated_features_to_the_real_ones(digits):
    # With a frozen discriminator and no reconstruction term, g_loss is the
    # squared distance between mean real and generated hidden features.
    keras.utils.set_random_seed(4)
    gan = keras_ganinit.GanInitModel(
        dense_extractor(),
        adversarial_loss="feature_matching",
        reconstruction_weight=0.0,
    )
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(1e-3),
        discriminator_optimizer=keras.optimizers.SGD(0.0),
    )
    batch = digits[0][:128]
    first = gan.evaluate(batch, batch_size=128, verbose=0, return_dict=True)
    first = first["g_loss"]
    discriminator = gan.discriminator
    features = keras.Model(discriminator.inputs, discriminator.layers[-1].input)
    real = keras.ops.convert_to_numpy(features(batch)).mean(axis=0)
    fake = keras.ops.convert_to_numpy(features(gan(batch))).mean(axis=0)
    assert first == pytest.approx(np.mean((real - fake) ** 2), rel=1e-4)
    for _ in range(40):
        gan.train_on_batch(batch)
    last = gan.evaluate(batch, verbose=0, return_dict=True)["g_loss"]
    assert last < 0.2 * first


def test_feature_matching_with_a_tied_mirror_is_saved(digits, tmp_path):
    extractor = dense_extractor()
    gan = keras_ganinit.GanInitModel(
        extractor,
        decoder=keras_ganinit.mirror(extractor, tied=True),
        adversarial_loss="feature_matching",
    )
    gan.compile()
    history = gan.fit(digits[0][:256], epochs=1, batch_size=64, verbose=0).history
    assert np.isfinite(history["g_loss"][0])
    path = str(tmp_path / "fm.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.adversarial_loss == "feature_matching"
    assert all("kernel" not in v.path for v in loaded.decoder.trainable_variables)
    loaded.fit(digits[0][:128], epochs=1, batch_size=64, verbose=0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("non_saturating", lambda logits: np.logaddexp(0.0, -logits).mean()),
        ("minimax", lambda logits: -np.logaddexp(0.0, logits).mean()),
    ],
)
def test_adversarial_loss_by_name_is_the_generators_term(digits, name, expected):
    gan = keras_ganinit.GanInitModel(
        dense_extractor(), adversarial_loss=name, reconstruction_weight=0.0, seed=0
    )
    gan.compile()
    batch = digits[0][:128]
    g_loss = gan.evaluate(batch, batch_size=128, verbose=0, return_dict=True)
    logits = keras.ops.convert_to_numpy(gan.discriminator(gan(batch)))
    assert g_loss["g_loss"] == pytest.approx(expected(logits), rel=1e-4)
    history = gan.fit(batch, steps=3, verbose=0).history
    assert np.isfinite(history["g_loss"]).all()


def test_feature_matching_needs_a_hidden_discriminator_layer():
    linear = keras.Sequential([keras.Input((64,)), layers.Dense(1)])
    with pytest.raises(ValueError, match="needs a hidden layer"):
        keras_ganinit.GanInitModel(
            dense_extractor(),
            discriminator=linear,
            adversarial_loss="feature_matching",
        )


def test_batch_statistics_follow_the_functional_graph(digits):
    # A branching functional extractor, alone and nested in a Sequential:
    # each BatchNormalization's inputs come from the graph itself.
    def branching(name, bias=True):
        inputs = keras.Input((64,))
        hidden = layers.Dense(16, use_bias=bias, name=f"{name}_d1")(inputs)
        normed = layers.BatchNormalization(name=f"{name}_bn")(hidden)
        skip = layers.Dense(8, name=f"{name}_skip")(inputs)
        return keras.Model(inputs, layers.Concatenate()([normed, skip]), name=name)

    x = digits[0][:256]
    flat = branching("flat")
    keras_ganinit.GanInitModel(flat).calibrate(x)
    hidden = keras.ops.convert_to_numpy(flat.get_layer("flat_d1")(x))
    bn = flat.get_layer("flat_bn")
    np.testing.assert_allclose(bn.moving_mean, hidden.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance, hidden.var(axis=0), rtol=1e-4)

    # Without a bias, calibration cannot center inner_d1: the means that
    # inner_bn must pick up are not the zeros it starts with.
    inner = branching("inner", bias=False)
    nested = keras.Sequential([keras.Input((64,)), inner], name="nested")
    keras_ganinit.GanInitModel(nested).calibrate(x)
    bn = inner.get_layer("inner_bn")
    hidden = keras.ops.convert_to_numpy(inner.get_layer("inner_d1")(x))
    assert np.abs(hidden.mean(axis=0)).max() > 0.1
    np.testing.assert_allclose(bn.moving_mean, hidden.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance, hidden.var(axis=0), rtol=1e-4)


def test_seed_makes_the_built_networks_reproducible(digits):
    def built(seed):
        keras.utils.set_random_seed(seed + 100)  # a different global draw
        extractor = dense_extractor()
        extractor.set_weights(reference.get_weights())
        return keras_ganinit.GanInitModel(extractor, seed=seed, calibration=False)

    reference = dense_extractor()
    first, again, other = built(7), built(7), built(8)
    for a, b, c in zip(
        first.decoder.weights + first.discriminator.weights,
        again.decoder.weights + again.discriminator.weights,
        other.decoder.weights + other.discriminator.weights,
        strict=True,
    ):
        a, b, c = (keras.ops.convert_to_numpy(v) for v in (a, b, c))
        np.testing.assert_array_equal(a, b)
        if a.ndim == 2:  # kernels differ between seeds (biases start at 0)
            assert not np.array_equal(a, c)
    x = keras.ops.convert_to_tensor(digits[0][:8])
    np.testing.assert_allclose(  # same weights; float rounding may differ
        keras.ops.convert_to_numpy(first(x, training=True)),
        keras.ops.convert_to_numpy(again(x, training=True)),
        rtol=1e-6,
        atol=1e-7,
    )
    assert first.get_config()["seed"] == 7
    with pytest.raises(TypeError, match="seed must be an integer"):
        keras_ganinit.GanInitModel(dense_extractor(), seed=1.5)


def test_the_step_count_advances_and_tensorboard_plots_against_it(digits, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    gan = keras_ganinit.GanInitModel(dense_extractor(), calibration=False, seed=0)
    gan.compile()
    gan.fit(
        digits[0][:256],
        validation_data=(digits[0][256:320],),
        epochs=3,
        batch_size=64,
        verbose=0,
        callbacks=[keras.callbacks.TensorBoard(tmp_path / "tb", update_freq=1)],
    )
    # One count per alternating step of both players: 3 epochs of 4 batches.
    assert int(keras.ops.convert_to_numpy(gan.optimizer.iterations)) == 12
    assert int(keras.ops.convert_to_numpy(gan.generator_optimizer.iterations)) == 12
    events = EventAccumulator(str(tmp_path / "tb" / "validation"))
    events.Reload()
    tag = "evaluation_d_loss_vs_iterations"
    found = events.Tags().get("scalars", []) + events.Tags().get("tensors", [])
    assert tag in found, found
    read = events.Scalars if tag in events.Tags().get("scalars", []) else events.Tensors
    assert [event.step for event in read(tag)] == [4, 8, 12]
