"""LooksLinear and calibrate(looks_linear=True): mirrored kernels, deep ReLU nets
that start linear, the forms read from the graph, saving, errors, training."""

import json

import keras
import numpy as np
import pytest
from helpers import large_on_jax
from keras import layers

import keras_ganinit
from keras_ganinit.initializers import LooksLinear

_np = keras.ops.convert_to_numpy


def _numpy(tensor):
    return np.asarray(_np(tensor), dtype="float64")


def _orthonormal_columns(matrix):
    tall = matrix.shape[0] >= matrix.shape[1]
    gram = matrix.T @ matrix if tall else matrix @ matrix.T
    return np.allclose(gram, np.eye(len(gram)), atol=1e-5)


def _affine_residual(x, y):
    """How far `y` is from the best affine function of `x`, relative to y's spread."""
    design = np.concatenate([x, np.ones((len(x), 1))], axis=1).astype("float64")
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(np.abs(design @ coefficients - y).max() / (y - y.mean(0)).std())


# --- the initializer ---------------------------------------------------------


@pytest.mark.parametrize("shape", [(12, 8), (3, 6, 8), (3, 3, 4, 6)])
def test_first_form_is_an_orthogonal_half_and_its_negation(shape):
    kernel = _numpy(LooksLinear(gain=2.0, seed=3)(shape))
    assert kernel.shape == shape
    matrix = kernel.reshape(-1, shape[-1])
    half = matrix[:, : shape[-1] // 2]
    np.testing.assert_array_equal(matrix[:, shape[-1] // 2 :], -half)
    assert _orthonormal_columns(half / 2.0)


@pytest.mark.parametrize("shape", [(8, 6), (3, 8, 6), (3, 3, 4, 8)])
def test_mirrored_form_sits_at_the_centre_tap_with_zeros_elsewhere(shape):
    kernel = _numpy(LooksLinear(mirrored_input=True, seed=1)(shape))
    centre = tuple(size // 2 for size in shape[:-2])
    w = kernel[centre]
    c, u = shape[-2] // 2, shape[-1] // 2
    m = w[:c, :u]
    np.testing.assert_array_equal(w[:c, u:], -m)
    np.testing.assert_array_equal(w[c:, :u], -m)
    np.testing.assert_array_equal(w[c:, u:], m)
    assert _orthonormal_columns(m)
    others = kernel.copy()
    others[centre] = 0.0
    assert np.count_nonzero(others) == 0


def test_end_form_maps_pairs_back_and_the_plain_end_is_keras_orthogonal():
    end = LooksLinear(mirrored_input=True, mirrored_output=False, seed=2)((8, 5))
    end = _numpy(end)
    np.testing.assert_array_equal(end[4:], -end[:4])
    assert _orthonormal_columns(end[:4])
    plain = LooksLinear(mirrored_output=False, seed=7)((6, 5))
    np.testing.assert_array_equal(
        _numpy(plain), _numpy(keras.initializers.Orthogonal(seed=7)((6, 5)))
    )


def test_one_instance_repeats_its_kernel_and_seeds_make_it_reproducible():
    unseeded = LooksLinear()
    np.testing.assert_array_equal(_numpy(unseeded((6, 4))), _numpy(unseeded((6, 4))))
    a, b = LooksLinear(seed=5)((6, 4)), LooksLinear(seed=5)((6, 4))
    np.testing.assert_array_equal(_numpy(a), _numpy(b))
    assert not np.allclose(_numpy(a), _numpy(LooksLinear(seed=6)((6, 4))))


@pytest.mark.parametrize("activation", ["relu", "gelu", "silu", "softplus"])
def test_a_deep_net_of_looks_linear_layers_starts_as_a_linear_map(activation):
    """f(z) - f(-z) = z: 24 layers of the activation compute one affine map."""
    depth, width = 24, 16
    hidden = [
        layers.Dense(
            width,
            activation=activation,
            kernel_initializer=LooksLinear(mirrored_input=i > 0, seed=i),
        )
        for i in range(depth)
    ]
    head = layers.Dense(
        3,
        kernel_initializer=LooksLinear(
            mirrored_input=True, mirrored_output=False, seed=99
        ),
    )
    model = keras.Sequential([keras.Input((10,)), *hidden, head])
    x = np.random.default_rng(0).normal(size=(64, 10)).astype("float32")
    y = _numpy(model(x))
    assert y.std() > 0.1  # the signal neither vanishes nor explodes
    # softplus(0) = log 2 per unit: the map is affine, not linear.
    assert _affine_residual(x, y) < 1e-4
    # The same net from Keras's HeNormal is far from affine.
    for layer in hidden:
        layer.kernel.assign(keras.initializers.HeNormal(seed=0)(layer.kernel.shape))
    assert _affine_residual(x, _numpy(model(x))) > 1e-2


def test_round_trips_through_keras_serialization_and_a_keras_file(tmp_path):
    init = LooksLinear(mirrored_input=True, mirrored_output=False, gain=1.5, seed=4)
    config = init.get_config()
    assert config == {
        "mirrored_input": True,
        "mirrored_output": False,
        "gain": 1.5,
        "seed": 4,
    }
    assert json.loads(json.dumps(config)) == config
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(init)))
    revived = keras.saving.deserialize_keras_object(serialized)
    assert type(revived) is LooksLinear and revived.get_config() == config
    model = keras.Sequential(
        [
            keras.Input((8, 1)),
            layers.Conv1D(
                6, 3, activation="relu", kernel_initializer=LooksLinear(seed=0)
            ),
            layers.Conv1D(4, 3, kernel_initializer=LooksLinear(True, seed=1)),
        ]
    )
    path = tmp_path / "looks_linear.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.layers[1].kernel_initializer.get_config()["mirrored_input"]
    x = np.random.default_rng(1).normal(size=(4, 8, 1)).astype("float32")
    np.testing.assert_allclose(_np(loaded(x)), _np(model(x)), atol=1e-6)


@pytest.mark.parametrize(
    "make, shape, error, words",
    [
        (lambda: LooksLinear(), (6, 5), ValueError, "even number of output units"),
        (
            lambda: LooksLinear(mirrored_input=True),
            (3, 5, 4),
            ValueError,
            "even number of input channels",
        ),
        (lambda: LooksLinear(mirrored_input="yes"), None, TypeError, "True or False"),
        (lambda: LooksLinear(mirrored_output=1), None, TypeError, "mirrored_output"),
        (lambda: LooksLinear(gain=-1.0), None, ValueError, "gain"),
        (lambda: LooksLinear(seed=1.5), None, TypeError, "seed"),
        (lambda: LooksLinear(), (6,), ValueError, "shape"),
    ],
)
def test_bad_arguments_say_what_to_pass(make, shape, error, words):
    with pytest.raises(error, match=words):
        init = make()
        init(shape)


# --- calibrate(looks_linear=True) --------------------------------------------


def _deep_mlp(depth, width=32, activation="relu"):
    return keras.Sequential(
        [keras.Input((64,))]
        + [layers.Dense(width, activation=activation) for _ in range(depth)]
        + [layers.Dense(10, activation="softmax", name="head")]
    )


@large_on_jax
def test_the_forms_are_read_from_the_graph(digit_images):
    inputs = keras.Input((8, 8, 1))
    h = layers.Conv2D(8, 3, padding="same", activation="relu", name="c1")(inputs)
    h = layers.Conv2D(8, 3, padding="same", name="c2")(h)  # linear, then ReLU
    h = layers.ReLU(name="act")(h)
    h = layers.Dropout(0.1)(h)
    h = layers.Conv2D(6, 3, padding="same", activation="gelu", name="c3")(h)
    h = layers.MaxPooling2D(name="max")(h)  # the mirror does not survive max
    h = layers.Conv2D(6, 3, padding="same", activation="tanh", name="c4")(h)
    h = layers.Conv2D(4, 3, padding="same", activation="relu", name="c5")(h)
    h = layers.GlobalAveragePooling2D()(h)  # an average keeps the pairs
    h = layers.Dense(5, activation="relu", name="odd")(h)  # odd: ends the stretch
    outputs = layers.Dense(10, activation="softmax", name="head")(h)
    model = keras.Model(inputs, outputs)
    report = keras_ganinit.calibrate(model, digit_images, looks_linear=True, seed=0)
    kernels = {r["layer"]: r["kernel"] for r in report.rows}
    assert kernels == {
        "c1": "looks-linear",
        "c2": "looks-linear, mirrored input",
        "c3": "looks-linear, mirrored input",
        "c4": "orthogonal",
        "c5": "looks-linear",
        "odd": "looks-linear end",
        "head": "orthogonal",
    }
    assert "looks-linear, mirrored input" in str(report)
    # c2's pre-activation comes out as mirrored pairs [z, -z]: centring and
    # rescaling kept the mirror.
    probe = keras.Model(inputs, model.get_layer("c2").output)
    z = _numpy(probe(digit_images[:32]))
    np.testing.assert_allclose(z[..., 4:], -z[..., :4], atol=1e-5)
    for row in report.rows:
        assert abs(row["std_after"] - row["target_std"]) < 0.03


def test_a_calibrated_deep_relu_mlp_starts_affine_with_unit_layers(standardized):
    keras.utils.set_random_seed(0)
    model = _deep_mlp(32)
    report = keras_ganinit.calibrate(model, standardized, looks_linear=True)
    assert report.layers == [layer.name for layer in model.layers]
    for row in report.rows:
        assert abs(row["std_after"] - 1.0) < 0.03 and abs(row["mean_after"]) < 0.01
    # Its last hidden layer puts out [f(z), f(-z)] with z an affine map of x.
    hidden = keras.Model(model.inputs[0], model.layers[-2].output)
    y = _numpy(hidden(standardized))
    half = y.shape[1] // 2
    assert _affine_residual(standardized, y[:, :half] - y[:, half:]) < 1e-3
    # Without looks_linear, calibrate's ReLU net is far from affine.
    keras_ganinit.calibrate(model, standardized)
    y = _numpy(hidden(standardized))
    assert _affine_residual(standardized, y[:, :half] - y[:, half:]) > 1e-2


def test_seeds_reproduce_and_set_random_seed_applies(standardized):
    def kernels(**kwargs):
        model = _deep_mlp(3, width=8)
        keras_ganinit.calibrate(model, standardized, looks_linear=True, **kwargs)
        return [_numpy(layer.kernel) for layer in model.layers]

    for a, b in zip(kernels(seed=3), kernels(seed=3), strict=True):
        np.testing.assert_array_equal(a, b)
    keras.utils.set_random_seed(11)
    first = kernels()
    keras.utils.set_random_seed(11)
    for a, b in zip(first, kernels(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[1], kernels(seed=4)[1])


def test_all_or_nothing_and_bad_arguments(standardized):
    model = _deep_mlp(4, width=8)
    before = [np.array(_np(v)) for v in model.weights]
    with pytest.raises(ValueError, match="No weight of the model was changed"):
        keras_ganinit.calibrate(model, np.zeros((64, 64), "float32"), looks_linear=True)
    for value, variable in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(value, _np(variable))
    with pytest.raises(TypeError, match="looks_linear must be True or False"):
        keras_ganinit.calibrate(model, standardized, looks_linear="yes")
    with pytest.raises(TypeError, match="seed must be an integer"):
        keras_ganinit.calibrate(model, standardized, looks_linear=True, seed="a")
    # exclude= is honoured: the head keeps its weights.
    head = [np.array(_np(v)) for v in model.get_layer("head").weights]
    report = keras_ganinit.calibrate(
        model, standardized, looks_linear=True, exclude="head"
    )
    assert {r["layer"]: r["kernel"] for r in report.rows}["head"] is None
    for value, variable in zip(head, model.get_layer("head").weights, strict=True):
        np.testing.assert_array_equal(value, _np(variable))


def test_looks_linear_trains_a_32_layer_relu_mlp_that_calibrate_cannot(digits):
    """Real training, 4 epochs on the digits: SGD lr 0.02 x 8/32, batches of 64.

    Measured when the batch grew from 32 (5 epochs) to 64: looks-linear 0.86
    (TensorFlow, PyTorch) and 0.88 (JAX) against 0.25-0.35 for calibrate alone.
    """
    x, y = digits
    x = ((x - x.mean(0)) / (x.std(0) + 1e-3)).astype("float32")
    accuracy = {}
    for looks_linear in (False, True):
        keras.utils.set_random_seed(0)
        model = _deep_mlp(32)
        keras_ganinit.calibrate(model, x, looks_linear=looks_linear)
        model.compile(
            keras.optimizers.SGD(0.02 * 8 / 32, momentum=0.9),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        history = model.fit(
            x[:1200],
            y[:1200],
            epochs=4,
            batch_size=64,
            validation_data=(x[1200:], y[1200:]),
            verbose=0,
        )
        accuracy[looks_linear] = history.history["val_accuracy"][-1]
    assert accuracy[True] > 0.6, accuracy
    assert accuracy[True] > accuracy[False] + 0.2, accuracy


@large_on_jax  # the plan is read from the graph alike on every backend
def test_nested_models_and_kernels_that_cannot_mirror(digit_images):
    inputs = keras.Input((8, 8, 1))
    h = layers.Conv2D(8, 3, padding="same", activation="relu", name="c1")(inputs)
    grouped = layers.Conv2D(
        8, 3, padding="same", activation="relu", groups=2, name="grouped"
    )(h)
    h = layers.Conv2DTranspose(8, 3, padding="same", activation="relu", name="t")(
        grouped
    )
    inner = keras.Sequential(
        [
            keras.Input((8, 8, 8)),
            layers.Conv2D(6, 3, padding="same", activation="gelu", name="i1"),
            layers.Conv2D(6, 3, padding="same", activation="gelu", name="i2"),
        ],
        name="inner",
    )
    h = layers.GlobalAveragePooling2D()(inner(h))
    outputs = layers.Dense(10, activation="softmax", name="head")(h)
    gan = keras_ganinit.GanInitModel(keras.Model(inputs, outputs))
    report = keras_ganinit.calibrate(gan, digit_images, looks_linear=True, seed=1)
    assert {r["layer"]: r["kernel"] for r in report.rows} == {
        "c1": "looks-linear",
        "grouped": "orthogonal",  # grouped and transposed kernels keep their
        "t": "orthogonal",  # layouts; they are orthogonalized as usual
        "i1": "looks-linear",  # a nested model starts its own stretch
        "i2": "looks-linear, mirrored input",
        "head": "orthogonal",  # the nested model's output is not tracked
    }
    y = _numpy(gan.extractor(digit_images[:16]))
    assert np.all(np.isfinite(y))


def test_a_model_with_nothing_to_mirror_is_calibrated_with_a_warning(standardized):
    model = _deep_mlp(3, width=8, activation="tanh")
    with pytest.warns(UserWarning, match="found no layer .* looks-linear kernel"):
        report = keras_ganinit.calibrate(model, standardized, looks_linear=True)
    assert {r["kernel"] for r in report.rows} == {"orthogonal"}
