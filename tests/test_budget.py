"""fit(steps=N): pretraining budgeted in steps, whatever the data's size."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import dense_extractor, large_on_jax
from keras import layers

import keras_ganinit

# unit tests of a private helper (fit() cannot show a copy or reach 256 MiB cheaply)
from keras_ganinit._src.pretraining import budget as _budget

# What GanInitModel.compile documents: steps_per_execution unless chosen.
STEPS_PER_EXECUTION = 1 if keras.backend.backend() == "torch" else 16


def gan():
    model = keras_ganinit.GanInitModel(dense_extractor(), calibration=False)
    model.compile()
    return model


def recording_gan(extractor):
    """A GAN, run eagerly, that keeps the input batch of every train step."""
    seen = []

    class Recording(keras_ganinit.GanInitModel):
        def train_step(self, *args):
            x, _, _ = keras.utils.unpack_x_y_sample_weight(args[-1])
            seen.append(np.array(keras.ops.convert_to_numpy(x)))
            return super().train_step(*args)

    model = Recording(extractor, calibration=False)
    model.compile(run_eagerly=True)
    return model, seen


def iterations(model):
    return int(keras.ops.convert_to_numpy(model.generator_optimizer.iterations))


def test_steps_train_exactly_that_many_steps_on_small_and_large_data(digits):
    small, large = digits[0][:100], digits[0]
    for x, steps in ((small, 40), (large, 7)):
        model = gan()
        history = model.fit(x, batch_size=32, steps=steps, verbose=0).history
        assert iterations(model) == steps
        assert int(model.discriminator_optimizer.iterations.numpy()) == steps
        assert len(history["loss"]) == 1 and np.isfinite(history["loss"]).all()


def test_epochs_split_the_steps_for_callbacks(digits):
    model = gan()
    logger = keras.callbacks.History()
    model.fit(
        digits[0][:100],
        batch_size=32,
        steps=12,
        epochs=3,
        callbacks=[logger],
        verbose=0,
    )
    assert iterations(model) == 12
    assert len(logger.history["loss"]) == 3


@large_on_jax
def test_small_data_is_repeated_and_reshuffled_on_every_pass():
    keras.utils.set_random_seed(0)
    x = np.arange(10, dtype="float32")[:, None]
    extractor = keras.Sequential([keras.Input((1,)), layers.Dense(4, name="fe")])
    model, seen = recording_gan(extractor)
    history = model.fit(x, batch_size=4, steps=8, verbose=0).history
    assert iterations(model) == 8 and len(history["loss"]) == 1  # one epoch
    assert [batch.shape for batch in seen] == [(4, 1)] * 8
    passes = np.concatenate(seen)[:30, 0].reshape(3, 10)
    for one in passes:  # Every sample once per pass...
        assert sorted(one) == list(range(10))
    assert not np.array_equal(passes[0], passes[1])  # ...in a new order.


@large_on_jax
def test_large_data_is_cut_not_repeated(digits):
    x = digits[0]
    model, seen = recording_gan(dense_extractor())
    history = model.fit(
        x, batch_size=32, steps=5, epochs=5, shuffle=False, verbose=0
    ).history
    assert iterations(model) == 5 and len(history["loss"]) == 5
    # Keras's iterator cuts x itself (1 step an epoch, 5 epochs), running on
    # across epochs in x's own order: nothing repeated or reordered.
    np.testing.assert_array_equal(np.concatenate(seen), x[:160])
    model = gan()
    history = model.fit(x, batch_size=32, steps=5, epochs=5, verbose=0).history
    assert iterations(model) == 5 and len(history["loss"]) == 5


def test_large_data_is_cut_without_a_copy(digits):
    x = digits[0]
    data, kwargs = _budget.by_steps(x, 5, {"batch_size": 32, "epochs": 5})
    assert data is x  # Keras's iterator cuts it: 1 step an epoch, 5 epochs.
    assert kwargs == {"batch_size": 32, "epochs": 5, "steps_per_epoch": 1}


def test_repeating_large_samples_gathers_batch_by_batch(digits, monkeypatch):
    # Past MAX_COPY_BYTES, the repeated order is served batch by batch
    # (no copy of the repeated data), with the same exact step count.
    # Through fit() alone this takes over 256 MiB of repeated data.
    monkeypatch.setattr(_budget, "MAX_COPY_BYTES", 1024)
    keras.utils.set_random_seed(0)
    x = digits[0][:50]
    data, kwargs = _budget.by_steps(x, 9, {"batch_size": 16})
    assert isinstance(data, keras.utils.PyDataset) and "batch_size" not in kwargs
    seen = np.concatenate([data[i] for i in range(len(data))])
    assert len(data) == 9 and seen.shape == (144, 64)
    assert sorted(data.order[:50]) == list(range(50))  # each sample once a pass
    expected = np.concatenate(
        [x[np.sort(data.order[i : i + 16])] for i in range(0, 144, 16)]
    )
    np.testing.assert_array_equal(seen, expected)
    model = gan()
    model.fit(x, batch_size=16, steps=9, verbose=0)
    assert iterations(model) == 9


def test_a_dataset_is_repeated_for_the_steps(digits):
    model = gan()
    batches = tf.data.Dataset.from_tensor_slices(digits[0][:96]).batch(32)
    model.fit(batches, steps=10, verbose=0)
    assert iterations(model) == 10


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"steps": 0}, ValueError, "steps must be an integer >= 1"),
        ({"steps": 2.5}, ValueError, "steps must be an integer >= 1"),
        ({"steps": 10, "steps_per_epoch": 5}, ValueError, "pass one or the other"),
        ({"steps": 2, "epochs": 3}, ValueError, "Pass epochs <= steps"),
    ],
)
def test_bad_budgets_are_explained(digits, kwargs, error, words):
    with pytest.raises(error, match=words):
        gan().fit(digits[0][:64], verbose=0, **kwargs)


def test_other_inputs_say_what_to_pass_instead(digits):
    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return digits[0][index * 32 : (index + 1) * 32]

    with pytest.raises(TypeError, match="pass epochs= and steps_per_epoch="):
        gan().fit(Batches(), steps=4, verbose=0)


def test_steps_per_execution_is_chosen_unless_the_user_did(digits):
    assert gan().steps_per_execution == STEPS_PER_EXECUTION
    mine = keras_ganinit.GanInitModel(dense_extractor(), calibration=False)
    mine.compile(steps_per_execution=1)
    assert mine.steps_per_execution == 1
    eager = keras_ganinit.GanInitModel(dense_extractor(), calibration=False)
    eager.compile(run_eagerly=True)
    assert eager.steps_per_execution == 1
    # Whole executions never overrun an epoch of data that does not run out.
    model = gan()
    batches = tf.data.Dataset.from_tensor_slices(digits[0][:64]).batch(32).repeat()
    model.fit(batches, steps_per_epoch=10, epochs=2, verbose=0)
    assert iterations(model) == 20


@large_on_jax
def test_without_steps_or_epochs_fit_runs_the_default_budget(digits):
    model = gan()
    history = model.fit(digits[0][:100], batch_size=32, verbose=0).history
    # fit's documented default, steps=200, in one epoch: not Keras's one
    # epoch (4 steps).
    assert iterations(model) == 200 and len(history["loss"]) == 1
    model = gan()
    model.fit(digits[0][:100], batch_size=32, epochs=1, verbose=0)
    assert iterations(model) == 4  # epochs= said: Keras's meaning

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return digits[0][index * 32 : (index + 1) * 32]

    model = gan()
    model.fit(Batches(), verbose=0)  # A PyDataset keeps Keras's one epoch.
    assert iterations(model) == 3
