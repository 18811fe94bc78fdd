"""GanPretrainedInitializer: exact pretrained values, clear errors, safe saving."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from helpers import large_on_jax, same, source_file_reads
from keras import layers

import keras_ganinit

Init = keras_ganinit.GanPretrainedInitializer


def classifier(source):
    return keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(
                128,
                activation="relu",
                kernel_initializer=Init(source=source, layer="fe1"),
                bias_initializer=Init(source=source, layer="fe1", variable="bias"),
            ),
            layers.Dense(
                32,
                activation="relu",
                kernel_initializer=Init(source=source, layer="fe2"),
            ),
            layers.Dense(10, activation="softmax"),
        ]
    )


def digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest(), os.stat(path).st_mtime_ns


def test_file_source_gives_exactly_the_pretrained_values(saved_gan):
    path, gan = saved_gan
    model = classifier(path)
    fe1, fe2 = gan.extractor.get_layer("fe1"), gan.extractor.get_layer("fe2")
    assert same(model.layers[0].kernel, fe1.kernel)
    assert same(model.layers[0].bias, fe1.bias)
    assert same(model.layers[1].kernel, fe2.kernel)
    assert not np.allclose(keras.ops.convert_to_numpy(fe1.bias), 0.0)


def test_integer_layers_count_kernel_layers_only(saved_gan):
    path, gan = saved_gan
    assert same(Init(path, layer=0)((64, 128)), gan.extractor.get_layer("fe1").kernel)
    assert same(Init(path, layer=-1)((128, 32)), gan.extractor.get_layer("fe2").kernel)


def test_values_are_cast_to_the_requested_dtype(saved_gan):
    path, gan = saved_gan
    value = Init(path, layer="fe2")((128, 32), dtype="float16")
    assert keras.backend.standardize_dtype(value.dtype) == "float16"
    expected = keras.ops.convert_to_numpy(gan.extractor.get_layer("fe2").kernel)
    assert np.array_equal(keras.ops.convert_to_numpy(value), expected.astype("float16"))


def test_a_source_file_is_read_once_and_never_modified(saved_gan, tmp_path):
    path = str(tmp_path / "copy.keras")
    shutil.copy(saved_gan[0], path)
    before = digest(path)
    reads = source_file_reads()
    for _ in range(3):
        classifier(path)
    assert source_file_reads() == reads + 1
    assert digest(path) == before


def test_a_rewritten_source_file_is_read_again(saved_gan, tmp_path, digits):
    path = tmp_path / "moving.keras"
    _, gan = saved_gan
    gan.save(path)
    first = keras.ops.convert_to_numpy(Init(path, layer="fe1")((64, 128)))
    clone = keras.saving.load_model(path)
    clone.fit(digits[0][:128], epochs=1, verbose=0)
    clone.save(path)
    second = keras.ops.convert_to_numpy(Init(path, layer="fe1")((64, 128)))
    assert same(second, clone.extractor.get_layer("fe1").kernel)
    assert not np.array_equal(first, second)


def test_any_saved_keras_model_is_a_source(tmp_path):
    model = keras.Sequential([keras.Input((5,)), layers.Dense(3, name="plain")])
    path = tmp_path / "plain.keras"
    model.save(path)
    assert same(Init(str(path), layer="plain")((5, 3)), model.layers[0].kernel)


def test_in_memory_source_is_read_at_call_time(digits):
    extractor = keras.Sequential([keras.Input((64,)), layers.Dense(16, name="fe")])
    gan = keras_ganinit.GanInitModel(extractor)
    init = gan.initializer("fe")
    gan.compile()
    gan.fit(digits[0][:128], epochs=1, verbose=0)
    assert same(init((64, 16)), extractor.layers[0].kernel)
    plain = Init(source=extractor, layer=0)
    assert same(plain((64, 16)), extractor.layers[0].kernel)


@pytest.mark.parametrize(
    "kwargs, shape, error, words",
    [
        (
            {"layer": "fe1"},
            (32, 128),
            ValueError,
            r"'fe1' in the source file .* has kernel shape \(64, 128\), but the layer "
            r"being initialized asks for \(32, 128\)",
        ),
        (
            {"layer": "fe9"},
            (64, 128),
            ValueError,
            r"no layer named 'fe9'.*'fe1', 'fe2'",
        ),
        ({"layer": 2}, (64, 128), ValueError, r"layer=2 is out of range.*2 layers"),
        ({"layer": None}, (64, 128), ValueError, "needs both source= .* and layer="),
    ],
)
def test_bad_layer_or_shape_is_explained(saved_gan, kwargs, shape, error, words):
    with pytest.raises(error, match=words):
        Init(source=saved_gan[0], **kwargs)(shape)


def test_missing_and_unreadable_sources_name_the_path(tmp_path):
    missing = str(tmp_path / "gone.keras")
    with pytest.raises(FileNotFoundError, match="gone.keras.*cannot be found"):
        Init(source=missing, layer="fe1")((64, 128))
    with pytest.raises(FileNotFoundError, match="gone.keras"):
        keras.Sequential(
            [
                keras.Input((64,)),
                layers.Dense(128, kernel_initializer=Init(missing, "fe1")),
            ]
        )
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(
        ValueError, match="Cannot read the pretrained source .*garbage.keras"
    ):
        Init(source=str(garbage), layer="fe1")((64, 128))
    assert garbage.read_bytes() == b"not a zip file"


def test_bad_arguments_are_explained(saved_gan):
    path, gan = saved_gan
    with pytest.raises(ValueError, match="variable must be one of 'kernel', 'bias'"):
        Init(path, "fe1", variable="weights")
    with pytest.raises(ValueError, match="has no gamma. Layers with a gamma: ."):
        Init(path, "fe1", variable="gamma")((128,))
    with pytest.raises(TypeError, match="layer must be a layer name"):
        Init(path, layer=1.5)
    with pytest.raises(TypeError, match="source must be a path"):
        Init(source=42, layer="fe1")
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        gan.initializer("nope")
    no_bias = keras.Sequential(
        [keras.Input((4,)), layers.Dense(2, use_bias=False, name="nb")]
    )
    with pytest.raises(ValueError, match="has no bias .*use_bias=False"):
        Init(no_bias, "nb", variable="bias")


def test_config_is_plain_json_and_round_trips(saved_gan):
    path, gan = saved_gan
    for init in (Init(path, layer="fe2", variable="bias"), gan.initializer(0)):
        config = init.get_config()
        assert json.loads(json.dumps(config)) == config
        restored = keras.initializers.deserialize(keras.initializers.serialize(init))
        assert isinstance(restored, Init) and restored.get_config() == config
        shape = (32,) if init.variable == "bias" else (64, 128)
        assert same(restored(shape), init(shape))
    assert keras.initializers.serialize(Init(path, "fe1"))["registered_name"] == (
        "keras_ganinit>GanPretrainedInitializer"
    )
    assert isinstance(
        keras.initializers.get("keras_ganinit>GanPretrainedInitializer"), Init
    )


def test_clone_model_recreates_the_pretrained_kernels(saved_gan):
    path, gan = saved_gan
    model = classifier(path)
    model.layers[0].kernel.assign(keras.ops.zeros((64, 128)))
    clone = keras.models.clone_model(model)
    assert same(clone.layers[0].kernel, gan.extractor.get_layer("fe1").kernel)
    assert same(clone.layers[1].kernel, gan.extractor.get_layer("fe2").kernel)


def test_clone_model_with_the_source_gone_warns(saved_gan, tmp_path):
    path = str(tmp_path / "temporary.keras")
    shutil.copy(saved_gan[0], path)
    model = classifier(path)
    os.remove(path)
    with pytest.warns(UserWarning, match="NOT pretrained"):
        keras.models.clone_model(model)


SUBPROCESS = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np, keras, keras_ganinit
    from sklearn.datasets import load_digits
    x = (load_digits().data / 16.0).astype("float32")[:50]
    out = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i, path in enumerate(sys.argv[2:]):
            out[str(i)] = keras.saving.load_model(path).predict(x, verbose=0)
    np.savez(sys.argv[1], **out)
    ours = [str(w.message) for w in caught]
    ours = [m for m in ours if "GanPretrainedInitializer" in m]
    print(json.dumps(ours))
    """
)


def load_elsewhere(tmp_path, paths):
    """Loads saved models in a new Python process: (predictions, our warnings)."""
    result = tmp_path / f"predictions_{len(list(tmp_path.iterdir()))}.npz"
    completed = subprocess.run(
        [sys.executable, "-c", SUBPROCESS, str(result), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return np.load(result), json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.large
def test_saved_models_load_in_a_new_process_with_and_without_the_source(
    saved_gan, tmp_path, digits
):
    source = str(tmp_path / "pretrained.keras")
    shutil.copy(saved_gan[0], source)
    from_file = classifier(source)
    from_memory = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(
                128,
                activation="relu",
                kernel_initializer=saved_gan[1].initializer("fe1"),
            ),
            layers.Dense(10, activation="softmax"),
        ]
    )
    for model in (from_file, from_memory):
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(digits[0][:256], digits[1][:256], epochs=1, verbose=0)
    paths = [tmp_path / "from_file.keras", tmp_path / "from_memory.keras"]
    from_file.save(paths[0])
    from_memory.save(paths[1])
    expected = [m.predict(digits[0][:50], verbose=0) for m in (from_file, from_memory)]

    present, warned = load_elsewhere(tmp_path, paths[:1])
    assert np.array_equal(present["0"], expected[0])
    assert warned == []

    os.rename(source, tmp_path / "moved.keras")
    absent, warned = load_elsewhere(tmp_path, paths)
    assert np.array_equal(absent["0"], expected[0])
    assert np.array_equal(absent["1"], expected[1])
    assert len(warned) == 2 and all("load_model" in w for w in warned)


def bn_extractor():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(8, 3, strides=2, padding="same", name="conv"),
            layers.BatchNormalization(name="bn"),
            layers.ReLU(name="relu"),
            layers.Flatten(name="flat"),
            layers.Dense(16, activation="relu", name="fe"),
        ],
        name="bn_extractor",
    )


NORMALIZATION = ("gamma", "beta", "moving_mean", "moving_variance")


@large_on_jax
def test_batch_normalization_is_refreshed_by_calibration_and_transferred(
    digit_images, tmp_path
):
    keras.utils.set_random_seed(5)
    gan = keras_ganinit.GanInitModel(bn_extractor())
    gan.compile()
    gan.fit(digit_images[:512], epochs=2, batch_size=64, verbose=0)
    # Calibration rescaled the conv kernel; the moving statistics now describe
    # the conv's outputs on the calibration batch (the first 512 samples).
    extractor = gan.extractor
    conv_out = keras.ops.convert_to_numpy(
        extractor.get_layer("conv")(digit_images[:512])
    ).astype("float64")
    bn = extractor.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean, conv_out.mean(axis=(0, 1, 2)), atol=1e-5)
    np.testing.assert_allclose(
        bn.moving_variance, conv_out.var(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6
    )
    # The Dense layer after it was calibrated through the refreshed statistics:
    # its pre-activation output has unit std in inference mode.
    x = digit_images[:512]
    for name in ("conv", "bn", "relu", "flat"):
        x = extractor.get_layer(name)(x, training=False)
    fe = extractor.get_layer("fe")
    pre = keras.ops.convert_to_numpy(keras.ops.matmul(x, fe.kernel) + fe.bias)
    assert np.std(pre) == pytest.approx(1.0, abs=0.03)
    path = str(tmp_path / "bn.keras")
    gan.save(path)
    norm = layers.BatchNormalization(
        **{f"{v}_initializer": Init(path, "bn", variable=v) for v in NORMALIZATION}
    )
    norm.build((None, 4, 4, 8))
    for variable in NORMALIZATION:
        assert same(getattr(norm, variable), getattr(bn, variable)), variable


def test_fallbacks_are_keras_defaults(tmp_path):
    missing = str(tmp_path / "gone.keras")

    def fallback(variable, shape):
        config = {"source": missing, "layer": "bn", "variable": variable}
        with pytest.warns(UserWarning, match=f"This {variable} is NOT pretrained"):
            return keras.ops.convert_to_numpy(Init.from_config(config)(shape))

    assert np.all(fallback("gamma", (4,)) == 1.0)
    assert np.all(fallback("moving_variance", (4,)) == 1.0)
    assert np.all(fallback("moving_mean", (4,)) == 0.0)
    assert np.all(fallback("beta", (4,)) == 0.0)
    # Kernels of every kind get Glorot-uniform values, never zeros.
    for variable in ("kernel", "depthwise_kernel", "pointwise_kernel"):
        kernel = fallback(variable, (3, 3, 8, 1))
        limit = np.sqrt(6.0 / (9 * 8 + 9 * 1))
        assert np.std(kernel) > 0.3 * limit and np.abs(kernel).max() <= limit
