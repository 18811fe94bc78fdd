"""No broken weights handed over: the guarantees of docs/reliability.md.

Non-finite input and training, all-or-nothing calibration, sources that are
not finite, changed behind the cache's back, unsafe or gone, and loss scaling
under mixed precision. Every test trains or loads for real.
"""

import concurrent.futures
import os
import shutil

import keras
import numpy as np
import pytest
from helpers import dense_extractor, same, source_file_reads
from keras import layers

import keras_ganinit

Init = keras_ganinit.GanPretrainedInitializer


def values(*models):
    return [np.array(keras.ops.convert_to_numpy(v)) for m in models for v in m.weights]


def identical(before, after):
    return len(before) == len(after) and all(
        np.array_equal(b, a, equal_nan=True) for b, a in zip(before, after, strict=True)
    )


def small_gan(**kwargs):
    return keras_ganinit.GanInitModel(dense_extractor(), **kwargs)


@pytest.fixture(scope="module")
def trained(digits):
    """A dense GAN trained one epoch, uncalibrated, and its saved file."""
    keras.utils.set_random_seed(3)
    gan = small_gan(calibration=False)
    gan.compile()
    gan.fit(digits[0][:512], epochs=1, batch_size=64, verbose=0)
    return gan


# Input that is not finite, or too small, is refused before training.


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_array_input_is_refused_before_any_training(digits, bad):
    gan = small_gan()
    gan.compile()
    before = values(gan)
    x = digits[0][:256].copy()
    x[[5, 9], 3] = bad
    where = r"2 non-finite .* samples \(indices 5, 9\)"
    for given in (x, keras.ops.convert_to_tensor(x)):
        with pytest.raises(ValueError, match=where):
            gan.fit(given, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_data holds 2 non-finite"):
        gan.fit(digits[0][:256], validation_data=(x, None), epochs=1, verbose=0)
    assert identical(before, values(gan))
    assert int(gan.generator_optimizer.iterations.numpy()) == 0


def test_empty_and_one_sample_inputs_are_refused(digits):
    gan = small_gan()
    gan.compile()
    with pytest.raises(ValueError, match=r"x has 0 samples .* at least 2"):
        gan.fit(digits[0][:0], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"x has 1 sample .* calibration=False"):
        gan.fit(digits[0][:1], epochs=1, verbose=0)
    uncalibrated = small_gan(calibration=False)
    uncalibrated.compile()
    with pytest.raises(ValueError, match="x has 0 samples"):
        uncalibrated.fit(digits[0][:0], epochs=1, verbose=0)
    uncalibrated.fit(digits[0][:1], epochs=1, verbose=0)  # Trains on one.


# A loss that turns non-finite stops training and restores the weights.


class PoisonedBatches(keras.utils.PyDataset):
    """Digits in batches of 64, with a NaN in each while `poisoned` is set."""

    def __init__(self, x, poisoned=False):
        super().__init__()
        self.x, self.poisoned = x, poisoned

    def __len__(self):
        return len(self.x) // 64

    def __getitem__(self, index):
        batch = self.x[index * 64 : (index + 1) * 64].copy()
        if self.poisoned:
            batch[0, 0] = np.nan
        return batch


class PoisonFrom(keras.callbacks.Callback):
    """Poisons a PoisonedBatches from the start of a given epoch (0-based)."""

    def __init__(self, data, epoch):
        super().__init__()
        self.data, self.epoch = data, epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.data.poisoned = epoch >= self.epoch


class EpochEnds(keras.callbacks.Callback):
    """Copies of the weights at each epoch's end, and whether any were NaN."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(values(self.model))


def test_a_non_finite_loss_stops_restores_and_raises(digits, tmp_path):
    keras.utils.set_random_seed(4)
    gan = small_gan()
    gan.compile()
    data = PoisonedBatches(digits[0][:512])
    ends = EpochEnds()
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "epoch{epoch}.weights.h5"), save_weights_only=True
    )
    message = r"in epoch 2, at or before step [1-8]: .*the start of epoch 2"
    with pytest.raises(FloatingPointError, match=message):
        gan.fit(
            data,
            epochs=4,
            verbose=0,
            callbacks=[PoisonFrom(data, 1), ends, checkpoint],
        )
    # Epoch 2 ended early, and every callback saw the restored weights.
    assert len(ends.weights) == 2
    assert identical(ends.weights[0], ends.weights[1])
    assert identical(ends.weights[0], values(gan))
    assert all(np.isfinite(v).all() for v in values(gan))
    optimizer = [keras.ops.convert_to_numpy(v) for v in gan.optimizer.variables]
    assert all(np.isfinite(v).all() for v in optimizer)
    reloaded = small_gan()
    reloaded.load_weights(str(tmp_path / "epoch2.weights.h5"))
    assert identical(values(reloaded), values(gan))
    # The running losses up to the fault are kept.
    assert len(gan.history.history["loss"]) == 2


def test_loss_is_logged_for_standard_callbacks(digits):
    keras.utils.set_random_seed(5)
    gan = small_gan(calibration=False)
    gan.compile()
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, mode="max")
    history = gan.fit(
        digits[0][:256], epochs=2, batch_size=64, verbose=0, callbacks=[stop]
    ).history
    assert np.allclose(
        history["loss"], np.add(history["d_loss"], history["g_loss"]), rtol=1e-5
    )
    # TerminateOnNaN reads `loss`: it stops a run that GanInitModel stops too.
    terminate = keras.callbacks.TerminateOnNaN()
    with pytest.raises(FloatingPointError):
        gan.fit(
            PoisonedBatches(digits[0][:256], poisoned=True),
            epochs=2,
            verbose=0,
            callbacks=[terminate],
        )
    assert gan.stop_training


# Calibration is all or nothing.


def test_calibration_that_fails_changes_nothing(trained, digits):
    before = values(trained.extractor)
    constant = np.ones((64, 64), "float32")
    nan_batch = digits[0][:64].copy()
    nan_batch[2, 2] = np.nan
    cases = [
        (constant, "constant"),
        (digits[0][:1], "1 sample"),
        (digits[0][:0], "0 samples"),
        (nan_batch, "1 non-finite"),
    ]
    for batch, words in cases:
        with pytest.raises(ValueError, match=words):
            trained.calibrate(batch)
        assert identical(before, values(trained.extractor))


def test_calibration_refuses_non_finite_kernels(digits):
    gan = small_gan()
    kernel = gan.extractor.get_layer("fe2").kernel
    kernel.assign(np.where(np.eye(128, 32) > 0, np.nan, 0.1).astype("float32"))
    before = values(gan.extractor)
    with pytest.raises(ValueError, match=r"fe2/kernel\. Nothing was changed"):
        gan.calibrate(digits[0][:128])
    assert identical(before, values(gan.extractor))


def test_a_failed_calibration_after_fit_says_the_weights_stay_as_trained():
    gan = small_gan()
    gan.compile()
    constant = np.full((128, 64), 0.5, "float32")
    with pytest.warns(UserWarning, match="stay exactly as trained"):
        gan.fit(constant, epochs=1, batch_size=64, verbose=0)


# Sources: never non-finite, never stale, always read safely.


def test_non_finite_source_values_are_refused(tmp_path):
    extractor = dense_extractor()
    kernel = extractor.get_layer("fe1").kernel
    kernel.assign(np.where(np.eye(64, 128) > 0, np.inf, 0.0).astype("float32"))
    path = str(tmp_path / "broken.keras")
    extractor.save(path)
    for source in (path, extractor):
        with pytest.raises(ValueError, match=r"'fe1' .* 64 non-finite .* kernel"):
            Init(source=source, layer="fe1")((64, 128))
    with pytest.raises(ValueError, match=r"'fe1' .* 64 non-finite .* kernel"):
        keras_ganinit.with_pretrained_initializers(dense_extractor(), path)
    # The bias is finite and still served.
    assert same(Init(source=path, layer="fe1", variable="bias")((128,)), np.zeros(128))


def test_a_rewritten_source_is_read_again_even_with_size_and_mtime_kept(tmp_path):
    extractor = dense_extractor()
    path, other = str(tmp_path / "source.keras"), str(tmp_path / "retrained.keras")
    extractor.save(path)
    first = keras.ops.convert_to_numpy(Init(source=path, layer="fe1")((64, 128)))
    kernel = extractor.get_layer("fe1").kernel
    kernel.assign(keras.ops.convert_to_numpy(kernel) + 1.0)
    extractor.save(other)
    old = os.stat(path)
    assert os.stat(other).st_size == old.st_size
    shutil.copyfile(other, path)
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))  # As `cp -p` does.
    assert os.stat(path).st_mtime_ns == old.st_mtime_ns
    reads = source_file_reads()
    second = keras.ops.convert_to_numpy(Init(source=path, layer="fe1")((64, 128)))
    assert np.allclose(second, first + 1.0)
    assert source_file_reads() == reads + 1
    # Unchanged, it is not read again.
    Init(source=path, layer="fe2")((128, 32))
    assert source_file_reads() == reads + 1


def test_threads_read_a_source_once(tmp_path):
    extractor = dense_extractor()
    path = str(tmp_path / "shared.keras")
    extractor.save(path)
    reads = source_file_reads()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        kernels = list(
            pool.map(
                lambda _: keras.ops.convert_to_numpy(Init(path, "fe1")((64, 128))),
                range(16),
            )
        )
    assert source_file_reads() == reads + 1
    expected = keras.ops.convert_to_numpy(extractor.get_layer("fe1").kernel)
    assert all(np.array_equal(k, expected) for k in kernels)


def test_sources_are_read_in_safe_mode_even_when_unsafe_is_enabled(tmp_path):
    from keras.src.saving.serialization_lib import SafeModeScope

    model = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Lambda(lambda t: t * 2.0, name="double"),
            layers.Dense(3, name="fe1"),
        ]
    )
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    # What keras.config.enable_unsafe_deserialization() does, undone on exit.
    with SafeModeScope(False):
        assert keras.saving.load_model(path) is not None  # Unsafe for the user.
        with pytest.raises(ValueError, match="reads sources in safe mode always"):
            Init(source=path, layer="fe1")((4, 3))


# A fallback is announced: once in load_model, every time elsewhere.


def test_clone_after_a_warned_load_warns_every_time(tmp_path):
    source = str(tmp_path / "source.keras")
    keras_ganinit.GanInitModel(dense_extractor()).save(source)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(128, name="h", kernel_initializer=Init(source, "fe1")),
        ]
    )
    saved = str(tmp_path / "classifier.keras")
    model.save(saved)
    os.remove(source)
    with pytest.warns(UserWarning, match="restores the saved weights") as caught:
        loaded = keras.saving.load_model(saved)
        loaded_again = keras.saving.load_model(saved)
    assert len(caught) == 1  # Once per source: the weights are restored.
    assert same(loaded.layers[0].kernel, model.layers[0].kernel)
    assert same(loaded_again.layers[0].kernel, model.layers[0].kernel)
    for _ in range(2):
        with pytest.warns(UserWarning, match="This kernel is NOT pretrained"):
            clone = keras.models.clone_model(loaded)
        assert not same(clone.layers[0].kernel, model.layers[0].kernel)
    with pytest.warns(UserWarning, match="outside keras.saving.load_model"):
        keras.Sequential.from_config(loaded.get_config())


# Mixed precision: each player's loss is scaled.


@pytest.fixture
def mixed_float16():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_mixed_precision_scales_both_players_losses(digits, mixed_float16, tmp_path):
    LossScale = keras.optimizers.LossScaleOptimizer
    keras.utils.set_random_seed(6)
    gan = small_gan(calibration=False)
    gan.compile()
    assert isinstance(gan.generator_optimizer, LossScale)
    assert isinstance(gan.discriminator_optimizer, LossScale)
    before = values(gan)
    history = gan.fit(digits[0][:256], epochs=1, batch_size=64, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    assert not same(values(gan)[0], before[0])
    path = str(tmp_path / "mixed.keras")
    gan.save(path)
    assert isinstance(keras.saving.load_model(path).generator_optimizer, LossScale)

    # The scale is really applied: a loss scaled by 2^60 overflows float16
    # gradients, so the step is skipped and each player's scale halves.
    huge = small_gan(calibration=False)
    huge.compile(
        LossScale(keras.optimizers.Adam(), initial_scale=2.0**60),
        LossScale(keras.optimizers.Adam(), initial_scale=2.0**60),
    )
    before = values(huge)
    huge.fit(digits[0][:64], epochs=1, batch_size=64, verbose=0)
    for player in (huge.generator_optimizer, huge.discriminator_optimizer):
        assert float(keras.ops.convert_to_numpy(player.dynamic_scale)) == 2.0**59
    assert identical(before, values(huge))
    off = small_gan(calibration=False)
    off.compile(auto_scale_loss=False)
    assert not isinstance(off.generator_optimizer, LossScale)
