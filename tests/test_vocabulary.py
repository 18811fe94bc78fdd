"""One vocabulary (docs/contributing.md, "One vocabulary") and the 0.3 contract.

The public signatures follow the written rules; the old names still work
with a dated warning; and the 0.3 additions keep the promises the older API
keeps: every bad input is refused before anything changes, a failed call
changes nothing, no initializer returns a non-finite kernel, and `detach`
leaves a model that names Keras only.
"""

import inspect
import json
import math
import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import layers

import keras_ganinit
from keras_ganinit.initializers import DeltaOrthogonal, LooksLinear

_np = keras.ops.convert_to_numpy

# Every public callable that reads data, and the rules' words for it.
READS_DATA = {
    "calibrate": keras_ganinit.calibrate,
    "lsuv": keras_ganinit.lsuv,
    "activation_report": keras_ganinit.activation_report,
    "linear_probe": keras_ganinit.linear_probe,
    "pretrain_layerwise": keras_ganinit.pretrain_layerwise,
    "GanInitModel.calibrate": keras_ganinit.GanInitModel.calibrate,
    "GanInitModel.fit": keras_ganinit.GanInitModel.fit,
}
OLD_NAMES = {"x_batch", "ignore", "inputs", "data", "batch"}


def _public_callables():
    found = {}
    for name in keras_ganinit.__all__:
        value = getattr(keras_ganinit, name)
        if inspect.isfunction(value):
            found[name] = value
        elif inspect.isclass(value):
            for attribute, method in vars(value).items():
                # Keras's own methods (call, compile...) speak Keras's words.
                keras_method = hasattr(keras.Model, attribute) and attribute != "fit"
                if (
                    inspect.isfunction(method)
                    and not attribute.startswith("_")
                    and (not keras_method or attribute == "calibrate")
                ):
                    found[f"{name}.{attribute}"] = method
            found[f"{name}.__init__"] = value.__init__
    for name in keras_ganinit.initializers.__all__:
        found[f"initializers.{name}"] = getattr(keras_ganinit.initializers, name)
    return found


def vocabulary_problems(name, function):
    """What in `function`'s signature breaks the written rules."""
    problems = []
    parameters = inspect.signature(function).parameters
    for old in OLD_NAMES & set(parameters):
        problems.append(f"{name} takes {old}= (the rules say x= or exclude=)")
    verbose = parameters.get("verbose")
    if verbose is not None and (
        isinstance(verbose.default, bool) or verbose.default not in (0, "auto")
    ):
        problems.append(f"{name}'s verbose defaults to {verbose.default!r}")
    seed = parameters.get("seed")
    if seed is not None and "SeedGenerator" not in str(seed.annotation):
        problems.append(f"{name}'s seed does not take a SeedGenerator")
    if name in READS_DATA:
        data = [p for p in parameters if p not in ("self", "model", "extractor")]
        if not data or data[0] != "x":
            problems.append(f"{name} calls its data {data[:1]}, not x")
    return problems


def test_every_public_signature_follows_the_vocabulary():
    callables = _public_callables()
    assert set(READS_DATA) <= set(callables)
    problems = [
        problem
        for name, function in sorted(callables.items())
        for problem in vocabulary_problems(name, function)
    ]
    assert not problems, problems


def test_the_signature_check_can_fail():
    def measure(model, x_batch, verbose=False, seed: int | None = None):
        return model, x_batch, verbose, seed

    assert len(vocabulary_problems("calibrate", measure)) == 4


def _mlp(activation_layer):
    hidden = [layers.Dense(32, name="hidden")]
    if activation_layer:
        hidden.append(layers.Activation("tanh", name="act"))
    else:
        hidden = [layers.Dense(32, activation="tanh", name="hidden")]
    return keras.Sequential([keras.Input((64,)), *hidden, layers.Dense(8, name="out")])


def test_dense_then_activation_calibrates_as_a_fused_activation(digits):
    stds = {}
    for separate in (False, True):
        keras.utils.set_random_seed(0)
        report = keras_ganinit.calibrate(_mlp(separate), digits[0][:256])
        row = {r["layer"]: r for r in report.rows}["hidden"]
        assert row["activation"] == "tanh" and row["target_std"] == 0.5
        stds[separate] = row["std_after"]
    assert stds[True] == pytest.approx(0.5, abs=0.02)
    assert stds[False] == pytest.approx(0.5, abs=0.02)


def test_old_names_work_with_a_dated_warning(digits):
    x = digits[0][:64]
    model = _mlp(False)
    with pytest.warns(DeprecationWarning, match=r"x_batch=.*2026-12-07.*0\.5\.0.*x="):
        assert keras_ganinit.lsuv(model, x_batch=x) is model
    with pytest.warns(DeprecationWarning, match=r"activation_report\(x_batch="):
        report = keras_ganinit.activation_report(model, x_batch=x)
    with pytest.warns(DeprecationWarning, match=r"check\(ignore=.*exclude="):
        assert report.check(ignore="out", min_std=0.0) is report
    with pytest.raises(TypeError, match="both x_batch= and x="):
        keras_ganinit.lsuv(model, x, x_batch=x)


def test_an_unbatched_dataset_is_refused_with_the_reason(digits):
    model = _mlp(False)
    before = [_np(v).copy() for v in model.weights]
    dataset = tf.data.Dataset.from_tensor_slices(digits[0][:512])
    for call in (keras_ganinit.calibrate, keras_ganinit.lsuv):
        with pytest.raises(ValueError, match=r"not batched.*dataset\.batch\(256\)"):
            call(model, dataset)
    for old, new in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(old, _np(new))
    # Batched, with labels, it is read like fit reads it.
    batched = tf.data.Dataset.from_tensor_slices((digits[0][:512], digits[1][:512]))
    report = keras_ganinit.calibrate(model, batched.batch(100), samples=300)
    assert report.samples == 300


def test_every_data_form_gives_the_same_report(digits):
    x = digits[0][:200]
    model = _mlp(False)
    reference = keras_ganinit.activation_report(model, x).rows

    def generator():
        for start in range(0, 200, 50):
            yield x[start : start + 50], digits[1][start : start + 50]

    forms = [
        tf.data.Dataset.from_tensor_slices(x).batch(64),
        generator(),
        keras.ops.convert_to_tensor(x),
    ]
    for form in forms:
        rows = keras_ganinit.activation_report(model, form).rows
        assert [r["output_std"] for r in rows] == pytest.approx(
            [r["output_std"] for r in reference], rel=1e-5
        )
    with pytest.raises(TypeError, match="generator of batches.*str"):
        keras_ganinit.activation_report(model, "x.npy")


def test_exclude_takes_layers_and_names_everywhere(digits):
    x = digits[0][:128]
    model = _mlp(True)
    out = model.get_layer("out")
    kept = _np(out.kernel).copy()
    report = keras_ganinit.calibrate(model, x, exclude=[out])
    assert {r["layer"]: r["target_std"] for r in report.rows}["out"] is None
    np.testing.assert_array_equal(kept, _np(out.kernel))
    keras_ganinit.lsuv(model, x, exclude=out)
    np.testing.assert_array_equal(kept, _np(out.kernel))
    stats = keras_ganinit.activation_report(model, x)
    assert stats.check(exclude=[out, "act"], min_std=0.0) is stats
    stranger = layers.Dense(3, name="stranger")
    with pytest.raises(ValueError, match=r"exclude= names \[the layer 'stranger'\]"):
        keras_ganinit.calibrate(model, x, exclude=[stranger])
    with pytest.raises(TypeError, match="layers or layer names"):
        keras_ganinit.calibrate(model, x, exclude=[3])


def test_verbose_is_a_keras_level(digits, capsys):
    model = _mlp(False)
    keras_ganinit.calibrate(model, digits[0][:64], verbose=0)
    assert capsys.readouterr().out == ""
    keras_ganinit.calibrate(model, digits[0][:64], verbose=1)
    assert "hidden" in capsys.readouterr().out
    for call in (keras_ganinit.calibrate, keras_ganinit.lsuv):
        with pytest.raises(ValueError, match="verbosity level.*'loud'"):
            call(model, digits[0][:64], verbose="loud")


def test_lsuv_checks_every_argument_before_anything_changes(digits):
    model = _mlp(False)
    before = [_np(v).copy() for v in model.weights]
    bad = [
        ({"target_std": -1.0}, ValueError, "target_std must be None"),
        ({"tolerance": 0}, ValueError, "tolerance must be a finite number > 0"),
        ({"max_iterations": 0}, ValueError, "max_iterations must be an integer"),
        ({"center": "yes"}, TypeError, "center must be True or False"),
        ({"samples": 1}, ValueError, "at least 2"),
    ]
    for kwargs, error, match in bad:
        with pytest.raises(error, match=match):
            keras_ganinit.lsuv(model, digits[0][:64], **kwargs)
    for old, new in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(old, _np(new))
    # target_std=None: calibrate's targets (tanh layers 0.5).
    keras_ganinit.lsuv(model, digits[0][:256], target_std=None)
    hidden = model.get_layer("hidden")
    pre = digits[0][:256] @ _np(hidden.kernel) + _np(hidden.bias)
    assert np.std(pre) == pytest.approx(0.5, abs=0.03)


def test_a_layer_called_twice_never_reads_a_plain_input_as_mirrored(digits):
    x = digits[0][:256]
    inputs = keras.Input((64,))
    first = layers.Dense(16, activation="relu", name="first")(inputs)
    shared = layers.Dense(16, activation="relu", name="shared")
    h = shared(first)  # a mirrored input here ...
    h = shared(layers.Dense(16, name="plain")(h))  # ... a plain one here
    model = keras.Model(inputs, layers.Dense(10, name="head")(h))
    report = keras_ganinit.calibrate(model, x, looks_linear=True, seed=0)
    kernels = {r["layer"]: r["kernel"] for r in report.rows}
    assert kernels["shared"] == "orthogonal", kernels
    # The shared kernel keeps every input direction at both calls.
    assert np.linalg.matrix_rank(_np(shared.kernel)) == 16
    # A layer called once still gets its looks-linear form.
    assert kernels["first"].startswith("looks-linear"), kernels


@pytest.mark.parametrize("initializer", [LooksLinear, DeltaOrthogonal])
def test_initializers_draw_every_float_dtype_and_refuse_overflowing_gains(
    initializer,
):
    for dtype in ("bfloat16", "float16", "float32"):
        kernel = initializer(seed=0)((3, 4, 6), dtype=dtype)
        assert keras.backend.standardize_dtype(kernel.dtype) == dtype
        assert np.isfinite(_np(keras.ops.cast(kernel, "float32"))).all()
    for gain, dtype in ((1e39, "float32"), (1e6, "float16")):
        with pytest.raises(ValueError, match=f"gain=.*does not fit dtype '{dtype}'"):
            initializer(gain=gain, seed=0)((3, 4, 6), dtype=dtype)


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(
    gain=st.floats(min_value=1e-30, max_value=1e40, allow_nan=False),
    dtype=st.sampled_from(["bfloat16", "float16", "float32"]),
    mirrored=st.booleans(),
)
def test_initializers_never_return_a_non_finite_kernel(gain, dtype, mirrored):
    for initializer in (
        LooksLinear(mirrored_input=mirrored, gain=gain, seed=1),
        DeltaOrthogonal(gain=gain, seed=1),
    ):
        try:
            kernel = initializer((3, 4, 6), dtype=dtype)
        except ValueError as error:
            assert "does not fit dtype" in str(error)
            continue
        assert np.isfinite(_np(keras.ops.cast(kernel, "float32"))).all()


@pytest.mark.parametrize("initializer", [LooksLinear, DeltaOrthogonal])
def test_initializers_take_a_seed_generator_as_keras_does(initializer):
    made = initializer(seed=keras.random.SeedGenerator(7))
    first = _np(made((3, 4, 6)))
    assert not np.array_equal(first, _np(made((3, 4, 6))))  # draws anew
    config = json.loads(json.dumps(made.get_config()))
    again = initializer.from_config(config)
    assert isinstance(again.seed, keras.random.SeedGenerator)
    assert np.isfinite(_np(again((3, 4, 6)))).all()
    with pytest.raises(TypeError, match="integer, None or a keras.random.SeedGen"):
        initializer(seed="7")


def test_functions_take_a_seed_generator(digits):
    model = keras.Sequential([keras.Input((64,)), layers.Dense(8, activation="relu")])
    report = keras_ganinit.calibrate(
        model, digits[0][:64], looks_linear=True, seed=keras.random.SeedGenerator(1)
    )
    assert report.rows[0]["kernel"] == "looks-linear"
    decoder = keras_ganinit.mirror(model, seed=keras.random.SeedGenerator(2))
    assert decoder.output_shape == (None, 64)


def _started_with_ours():
    inner = keras.Sequential(
        [
            keras.Input((6, 4)),
            layers.LSTM(
                4,
                return_sequences=True,
                recurrent_initializer=DeltaOrthogonal(seed=0),
                name="lstm",
            ),
        ],
        name="inner",
    )
    inputs = keras.Input((6, 4))
    h = inner(inputs)
    h = layers.Conv1D(4, 3, kernel_initializer=DeltaOrthogonal(seed=1), name="c")(h)
    h = layers.Flatten()(h)
    outputs = layers.Dense(6, kernel_initializer=LooksLinear(seed=2), name="d")(h)
    return keras.Model(inputs, outputs)


def test_detach_cuts_every_tie_wherever_the_layer_sits(tmp_path):
    model = _started_with_ours()
    weights = [_np(v).copy() for v in model.weights]
    assert "keras_ganinit" in json.dumps(model.get_config())
    assert keras_ganinit.detach(model) is model
    assert "keras_ganinit" not in json.dumps(model.get_config())
    for old, new in zip(weights, model.weights, strict=True):
        np.testing.assert_array_equal(old, _np(new))
    lstm = model.get_layer("inner").get_layer("lstm")
    assert isinstance(lstm.cell.recurrent_initializer, keras.initializers.Orthogonal)
    path = tmp_path / "detached.keras"
    model.save(path)
    with keras.saving.custom_object_scope({}):
        loaded = keras.saving.load_model(path)
    assert len(loaded.weights) == len(weights)


def test_detach_refuses_what_it_cannot_detach_and_changes_nothing():
    unbuilt = keras.Sequential(
        [layers.Dense(4, kernel_initializer=LooksLinear(seed=0), name="d")]
    )
    with pytest.raises(ValueError, match="'d'.*not built yet.*Nothing was changed"):
        keras_ganinit.detach(unbuilt)
    assert isinstance(unbuilt.layers[0].kernel_initializer, LooksLinear)
    extractor = keras.Sequential(
        [keras.Input((8, 2)), layers.Conv1D(4, 3, dilation_rate=2, name="c")]
    )
    decoder = keras_ganinit.mirror(extractor)
    with pytest.raises(ValueError, match="keras_ganinit's own classes"):
        keras_ganinit.detach(decoder)
    with pytest.raises(TypeError, match="detach its extractor"):
        keras_ganinit.detach(keras_ganinit.GanInitModel(extractor))


def test_linear_probe_checks_shapes_and_reads_datasets(digits):
    x, y = digits[0][:300], digits[1][:300]
    extractor = keras.Sequential(
        [keras.Input((64,)), layers.Dense(16, activation="relu")]
    )
    with pytest.raises(ValueError, match=r"x has shape \(300, 32\).*\(samples, 64\)"):
        keras_ganinit.linear_probe(extractor, x[:, :32], y)
    with pytest.raises(ValueError, match=r"x_val has shape \(50, 63\)"):
        keras_ganinit.linear_probe(
            extractor, x, y, validation_data=(x[:50, 1:], y[:50])
        )
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    from_dataset = keras_ganinit.linear_probe(extractor, dataset, epochs=5, seed=0)
    from_arrays = keras_ganinit.linear_probe(extractor, x, y, epochs=5, seed=0)
    assert from_dataset.n_train == from_arrays.n_train == 300
    assert from_dataset.accuracy == pytest.approx(from_arrays.accuracy, abs=1e-6)
    with pytest.raises(ValueError, match="y is None, and x carries no labels"):
        keras_ganinit.linear_probe(
            extractor, tf.data.Dataset.from_tensor_slices(x).batch(8)
        )


def test_pretrain_layerwise_checks_everything_before_any_weight_changes(digits):
    inputs = keras.Input((64,))
    empty = keras.Model(inputs, inputs)  # 0.3 raised IndexError here
    with pytest.raises(ValueError, match="no layer with a kernel"):
        keras_ganinit.pretrain_layerwise(empty, digits[0][:64], steps=1)
    model = keras.Sequential(
        [keras.Input((64,)), layers.Dense(8, activation="tanh"), layers.Dense(4)]
    )
    before = [_np(v).copy() for v in model.weights]
    for options, match in (
        ({"reconstruction_weight": -1}, "reconstruction_weight"),
        ({"adversarial_loss": "nope"}, "adversarial_loss"),
    ):
        with pytest.raises(ValueError, match=match):
            keras_ganinit.pretrain_layerwise(model, digits[0][:64], steps=1, **options)
        for old, new in zip(before, model.weights, strict=True):
            np.testing.assert_array_equal(old, _np(new))
    with pytest.raises(ValueError, match="verbosity level"):
        keras_ganinit.pretrain_layerwise(model, digits[0][:64], verbose=5)


def test_token_ids_into_an_embedding_are_not_called_unscaled():
    ids = np.random.default_rng(0).integers(0, 50, size=(128, 12))
    model = keras.Sequential(
        [
            keras.Input((12,), dtype="int32"),
            layers.Embedding(50, 8),
            layers.Conv1D(8, 3, activation="relu"),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        report = keras_ganinit.calibrate(model, ids)
    assert math.isclose(report.rows[0]["std_after"], 1.0, abs_tol=0.05)


_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.lists(st.text(max_size=3), max_size=2),
)


@settings(
    max_examples=int(os.environ.get("VOCAB_EXAMPLES", 30)),
    deadline=None,
    derandomize=True,
    database=None,
)
@given(
    call=st.sampled_from(["calibrate", "lsuv"]),
    argument=st.sampled_from(
        ["target_std", "exclude", "samples", "verbose", "seed", "tolerance"]
    ),
    value=_ANY,
)
def test_any_argument_is_taken_or_refused_with_nothing_changed(call, argument, value):
    if call == "calibrate" and argument == "tolerance":
        argument = "looks_linear"
    if call == "lsuv" and argument == "seed":
        argument = "center"
    model = _property_model()
    before = [_np(v).copy() for v in model.weights]
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    try:
        getattr(keras_ganinit, call)(model, x, **{argument: value})
    except (TypeError, ValueError) as error:
        assert argument in str(error) or "samples" in str(error), str(error)
        for old, new in zip(before, model.weights, strict=True):
            np.testing.assert_array_equal(old, _np(new))
        return
    for variable in model.weights:
        assert np.isfinite(_np(variable)).all()


_MODELS = {}


def _property_model():
    """One small model per backend run, re-initialized for each example."""
    if "mlp" not in _MODELS:
        _MODELS["mlp"] = keras.Sequential(
            [
                keras.Input((8,)),
                layers.Dense(6, activation="relu", name="a"),
                layers.Dense(4, activation="tanh", name="b"),
            ]
        )
    model = _MODELS["mlp"]
    rng = np.random.default_rng(1)
    for variable in model.weights:  # kernels drawn anew, biases zero
        scale = 0.3 if len(variable.shape) > 1 else 0.0
        variable.assign(rng.normal(size=variable.shape).astype("float32") * scale)
    return model


def test_gan_init_model_says_why_it_takes_no_target_function():
    with pytest.raises(TypeError, match="config, which holds no code.*calibrate"):
        keras_ganinit.GanInitModel(
            _mlp(False), calibration_target_std=lambda layer: 1.0
        )
