"""fit(steps=N): pretraining budgeted in steps, whatever the data's size."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import dense_extractor

import keras_ganinit
from keras_ganinit import _budget


def gan():
    model = keras_ganinit.GanInitModel(dense_extractor(), calibration=False)
    model.compile()
    return model


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


def test_small_data_is_repeated_and_reshuffled_on_every_pass():
    keras.utils.set_random_seed(0)
    x = np.arange(10, dtype="float32")[:, None]
    data, kwargs = _budget.by_steps(x, 8, {"batch_size": 4})
    assert data.shape == (32, 1)
    assert kwargs == {
        "batch_size": 4,
        "epochs": 1,
        "steps_per_epoch": 8,
        "shuffle": False,
    }
    passes = data[:30, 0].reshape(3, 10)
    for one in passes:  # Every sample once per pass...
        assert sorted(one) == list(range(10))
    assert not np.array_equal(passes[0], passes[1])  # ...in a new order.


def test_large_data_is_cut_without_a_copy(digits):
    x = digits[0]
    data, kwargs = _budget.by_steps(x, 5, {"batch_size": 32, "epochs": 5})
    assert data is x  # Keras's iterator cuts it: 1 step an epoch, 5 epochs.
    assert kwargs == {"batch_size": 32, "epochs": 5, "steps_per_epoch": 1}
    model = gan()
    history = model.fit(x, batch_size=32, steps=5, epochs=5, verbose=0).history
    assert iterations(model) == 5 and len(history["loss"]) == 5


def test_repeating_large_samples_gathers_batch_by_batch(digits, monkeypatch):
    # Past MAX_COPY_BYTES, the repeated order is served batch by batch
    # (no copy of the repeated data), with the same exact step count.
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
    from keras_ganinit._trainer import STEPS_PER_EXECUTION

    backend = keras.backend.backend()
    assert STEPS_PER_EXECUTION == (1 if backend == "torch" else 16)
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


def test_without_steps_or_epochs_fit_runs_the_default_budget(digits, monkeypatch):
    assert _budget.DEFAULT_STEPS >= 1
    monkeypatch.setattr(_budget, "DEFAULT_STEPS", 7)
    model = gan()
    model.fit(digits[0][:100], batch_size=32, verbose=0)
    assert iterations(model) == 7  # not Keras's one epoch (4 steps)
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
