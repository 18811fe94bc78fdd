"""linear_probe: real probes on the digits, the extractor untouched, clear errors."""

import keras
import numpy as np
import pytest
from helpers import same

from keras_ganinit import LinearProbeResult, linear_probe

# 4 steps a pass, 40 passes: converged on the digits, fast on 2 busy CPUs.
FAST = {"epochs": 40, "batch_size": 300, "seed": 0}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """PyTorch on one thread: on 2 busy CPUs its 2 threads wait on each other.

    Measured on one probe: 2 to 9 s with 2 threads, 0.3 s with 1.
    """
    if keras.backend.backend() != "torch":
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def split(digits):
    """1200 training and 597 validation digits."""
    x, y = digits
    return (x[:1200], y[:1200]), (x[1200:], y[1200:])


def random_relu(scale=1.0):
    """A Dense(64) ReLU extractor at a seeded random init, weights times `scale`."""
    extractor = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(
                64,
                activation="relu",
                kernel_initializer=keras.initializers.GlorotUniform(seed=0),
            ),
        ]
    )
    extractor.set_weights([w * scale for w in extractor.get_weights()])
    return extractor


def constant():
    """An extractor whose output is 0 for every input: it knows nothing."""
    return keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(32, kernel_initializer="zeros")]
    )


@pytest.fixture(scope="module")
def random_probe(split):
    """The extractor, its weights and flags before, and the probe's result."""
    (x, y), validation = split
    extractor = random_relu()
    extractor.layers[0].trainable = False
    before = [np.array(w) for w in extractor.get_weights()]
    flags = [extractor.trainable] + [layer.trainable for layer in extractor.layers]
    result = linear_probe(extractor, x, y, validation_data=validation, **FAST)
    return {"extractor": extractor, "before": before, "flags": flags, "result": result}


def test_random_features_classify_the_digits_well(random_probe):
    result = random_probe["result"]
    # Measured: 0.888 (PyTorch), 0.893 (JAX), 0.911 (TensorFlow); chance 0.099.
    assert result.accuracy > 0.85
    assert result.train_accuracy > result.accuracy - 0.02
    assert result.chance < 0.12
    assert result.as_dict() == {
        "accuracy": result.accuracy,
        "train_accuracy": result.train_accuracy,
        "validation": True,
        "chance": result.chance,
        "n_train": 1200,
        "n_validation": 597,
        "n_classes": 10,
        "feature_dim": 64,
    }
    assert f"validation accuracy {result.accuracy:.3f}" in str(result)
    assert "64 frozen features" in str(result) and "597 validation" in str(result)


def test_the_extractor_is_left_as_it_was(random_probe):
    extractor, flags = random_probe["extractor"], random_probe["flags"]
    before = random_probe["before"]
    for old, new in zip(before, extractor.get_weights(), strict=True):
        assert same(old, new)
    assert [extractor.trainable] + [x.trainable for x in extractor.layers] == flags
    assert flags == [True, False]


def test_raw_pixels_beat_a_constant_extractor(split):
    (x, y), validation = split
    identity = keras.Sequential([keras.Input((64,)), keras.layers.Identity()])
    raw = linear_probe(identity, x, y, validation_data=validation, **FAST)
    nothing = linear_probe(constant(), x, y, validation_data=validation, **FAST)
    # Measured: raw 0.911, constant 0.099 = always the commonest training class.
    assert raw.accuracy > 0.88
    assert nothing.accuracy < 0.2
    assert nothing.accuracy == pytest.approx(nothing.chance)


def test_seeded_probes_repeat_and_the_scale_does_not_matter(split, random_probe):
    (x, y), validation = split
    again = linear_probe(random_relu(), x, y, validation_data=validation, **FAST)
    assert again == random_probe["result"]
    # An uncalibrated extractor that only differs by a scale scores the same.
    scaled = linear_probe(random_relu(100.0), x, y, validation_data=validation, **FAST)
    assert scaled.accuracy == pytest.approx(again.accuracy, abs=2 / 597)


def test_one_hot_labels_give_the_same_as_class_ids(split, random_probe):
    (x, y), (x_val, y_val) = split
    one_hot = np.eye(10, dtype="float32")
    result = linear_probe(
        random_relu(), x, one_hot[y], validation_data=(x_val, one_hot[y_val]), **FAST
    )
    assert result == random_probe["result"]


def test_without_validation_data_it_says_the_accuracy_is_on_training_data(split):
    (x, y), _ = split
    result = linear_probe(random_relu(), x[:300], y[:300], epochs=10, seed=0)
    assert not result.validation and result.n_validation == 0
    assert result.accuracy == result.train_accuracy > 0.5
    assert f"training accuracy {result.accuracy:.3f}" in str(result)
    assert "no validation_data" in str(result)


def test_the_classes_cover_the_validation_labels():
    x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
    identity = keras.Sequential([keras.Input((4,)), keras.layers.Identity()])
    y = np.arange(40) % 2
    result = linear_probe(
        identity, x, y, validation_data=(x[:5], [0, 1, 4, 0, 1]), epochs=1
    )
    assert result.n_classes == 5 and result.feature_dim == 4


def test_a_diverged_extractor_is_named(split):
    (x, y), _ = split
    extractor = constant()
    kernel, bias = extractor.get_weights()
    bias[3] = np.nan
    extractor.set_weights([kernel, bias])
    with pytest.raises(ValueError, match=r"extractor's output on x holds .*diverged"):
        linear_probe(extractor, x[:20], y[:20])


X = np.zeros((6, 64), "float32")
Y = np.array([0, 1, 2, 0, 1, 2])


@pytest.mark.parametrize(
    ("extractor", "x", "y", "kwargs", "error", "match"),
    [
        ("layer", X, Y, {}, TypeError, r"needs a built keras.Model .* got Dense"),
        ("unbuilt", X, Y, {}, TypeError, r"not built yet\. Build it first"),
        (None, X, Y[:5], {}, ValueError, r"x has 6 samples but y has 5 labels"),
        (None, "pixels", Y, {}, TypeError, r"x must be a NumPy array or a tensor"),
        (None, X, Y - 1, {}, ValueError, r"negative labels \(e\.g\. -1 at index 0"),
        (None, X, Y + 0.5, {}, ValueError, r"not whole numbers .*0\.5 at index 0"),
        (
            None,
            X,
            Y.reshape(2, 3, 1),
            {},
            ValueError,
            r"y has shape \(2, 3, 1\), but must be",
        ),
        (None, X, np.full((6, 3), 0.5), {}, ValueError, r"not one-hot|other than 0"),
        (None, X, np.eye(3)[[0, 1, 2, 0, 1, 1]] * 2, {}, ValueError, r"0 and 1"),
        (None, X, np.array(list("abcabc")), {}, ValueError, r"np\.unique\(y"),
        (None, X, np.zeros(6, int), {}, ValueError, r"1 class \(0\).*at least 2"),
        (None, X, Y, {"epochs": 0}, ValueError, r"epochs must be an integer >= 1"),
        (None, X, Y, {"batch_size": 2.5}, ValueError, r"batch_size must be an int"),
        (None, X, Y, {"l2": -1e-4}, ValueError, r"l2 must be a number >= 0"),
        (None, X, Y, {"learning_rate": 0}, ValueError, r"learning_rate must be"),
        (
            None,
            X,
            Y,
            {"seed": 1.5},
            TypeError,
            r"seed must be an integer, None or a keras.random.SeedGenerator",
        ),
        (None, X, Y, {"validation_data": X}, ValueError, r"must be a pair"),
        (
            None,
            X,
            Y,
            {"validation_data": (X, Y, Y)},
            ValueError,
            r"pair \(x_val, y_val\).* got tuple of length 3",
        ),
        (
            None,
            X,
            Y,
            {"validation_data": (X, Y[:4])},
            ValueError,
            r"x_val has 6 samples but y_val has 4",
        ),
    ],
)
def test_wrong_arguments_say_what_to_pass(extractor, x, y, kwargs, error, match):
    if extractor == "layer":
        extractor = keras.layers.Dense(4)
    elif extractor == "unbuilt":
        extractor = keras.Sequential([keras.layers.Dense(4)])
    else:
        extractor = constant()
    with pytest.raises(error, match=match):
        linear_probe(extractor, x, y, **kwargs)


def test_non_finite_samples_are_named():
    x = X.copy()
    x[2, 5] = np.nan
    x[4, 0] = np.inf
    with pytest.raises(ValueError, match=r"x holds 2 non-finite .* \(indices 2, 4\)"):
        linear_probe(constant(), x, Y)
    with pytest.raises(ValueError, match=r"x_val holds 2 non-finite .*indices 2, 4"):
        linear_probe(constant(), X, Y, validation_data=(x, Y))


def test_the_result_is_a_frozen_record():
    result = LinearProbeResult(0.5, 0.6, False, 0.25, 8, 0, 4, 3)
    with pytest.raises(AttributeError):
        result.accuracy = 1.0
    assert str(result).startswith("Linear probe on 3 frozen features: training")


def test_several_inputs_and_outputs():
    a, b = keras.Input((4,)), keras.Input((2, 3))
    extractor = keras.Model(
        [a, b], [keras.layers.Dense(3)(a), keras.layers.Flatten()(b)]
    )
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(20, 4)), rng.normal(size=(20, 2, 3))]
    result = linear_probe(extractor, x, np.arange(20) % 2, epochs=1)
    assert result.feature_dim == 3 + 6
    with pytest.raises(ValueError, match=r"2 arrays of x hold 20, 15 samples"):
        linear_probe(extractor, [x[0], x[1][:15]], np.arange(20) % 2)
