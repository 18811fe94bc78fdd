"""Dilated mirrors run on every CPU kernel library and backend.

TensorFlow's Eigen CPU kernels (x86 CPUs without AVX-512, or
`TF_ENABLE_ONEDNN_OPTS=0`) refuse transposed convolutions with a dilation rate
above 1, so the mirror of a dilated convolution runs with an explicitly
dilated kernel there (keras_ganinit/_src/mirror/dilated.py).
"""

import warnings

import keras
import numpy as np
import pytest
from helpers import large_on_jax
from keras import layers, ops

import keras_ganinit
from keras_ganinit._src.mirror.dilated import DILATED_CONV_TRANSPOSE, dilate_kernel

_NATIVE = {1: layers.Conv1DTranspose, 2: layers.Conv2DTranspose}


def test_dilate_kernel_puts_zeros_between_the_taps():
    kernel = np.arange(1, 1 + 2 * 3 * 1 * 1, dtype="float32").reshape(2, 3, 1, 1)
    out = ops.convert_to_numpy(dilate_kernel(ops.convert_to_tensor(kernel), (3, 2)))
    assert out.shape == (4, 5, 1, 1)
    np.testing.assert_array_equal(out[::3, ::2], kernel)
    taps = np.zeros(out.shape, bool)
    taps[::3, ::2] = True
    assert not out[~taps].any()


def _native_runs(rank):
    """Whether this backend's kernels run Keras's own dilated transpose."""
    try:
        layer = _NATIVE[rank](1, 2, dilation_rate=2, padding="same")
        layer(np.zeros((1, *(5,) * rank, 1), "float32"))
    except Exception:  # TensorFlow's Eigen CPU kernels refuse it
        return False
    return True


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_the_mirror_is_the_adjoint_of_the_dilated_convolution(rank, padding):
    # <conv(x), y> == <x, conv^T(y)>: the transposed convolution is the
    # adjoint of the forward one, which every kernel library runs dilated.
    rng = np.random.default_rng(0)
    rate = (2, 3)[:rank]
    kernel = rng.normal(size=(*(3,) * rank, 2, 4)).astype("float32")
    x = rng.normal(size=(2, *(11,) * rank, 2)).astype("float32")
    forward = ops.convert_to_numpy(
        ops.conv(x, kernel, padding=padding, dilation_rate=rate)
    )
    y = rng.normal(size=forward.shape).astype("float32")
    mirror = DILATED_CONV_TRANSPOSE[rank](
        2, 3, padding=padding, dilation_rate=rate, use_bias=False
    )
    mirror.build(y.shape)
    mirror.kernel.assign(kernel)
    back = ops.convert_to_numpy(mirror(y))
    assert back.shape == x.shape
    np.testing.assert_allclose(
        np.sum(forward * y), np.sum(x * back), rtol=1e-4, atol=1e-3
    )
    if _native_runs(rank):  # JAX, PyTorch, TensorFlow with oneDNN
        native = _NATIVE[rank].from_config(mirror.get_config())
        native.build(y.shape)
        native.set_weights(mirror.get_weights())
        np.testing.assert_allclose(
            back, ops.convert_to_numpy(native(y)), rtol=1e-5, atol=1e-5
        )


def _tcn():
    return keras.Sequential(
        [
            keras.Input((24, 2)),
            layers.Conv1D(6, 3, padding="causal", activation="relu", name="c1"),
            layers.Conv1D(
                6, 3, padding="causal", dilation_rate=2, activation="relu", name="c2"
            ),
            layers.Conv1D(6, 3, padding="causal", dilation_rate=4, name="c4"),
        ],
        name="tcn",
    )


def _dilated_cnn():
    return keras.Sequential(
        [
            keras.Input((10, 10, 1)),
            layers.Conv2D(4, 3, dilation_rate=2, activation="relu", name="d2"),
            layers.SeparableConv2D(4, 3, dilation_rate=2, padding="same", name="s2"),
        ],
        name="dilated_cnn",
    )


# JAX runs the native dilated call (the adjoint test above covers it there);
# the GAN fits are for TensorFlow's Eigen path, and PyTorch's.
@large_on_jax
@pytest.mark.parametrize("name, tied", [("tcn", False), ("cnn", True)])
def test_gan_init_model_fits_dilated_extractors(name, tied, tmp_path):
    rng = np.random.default_rng(0)
    build, x = {
        "tcn": (_tcn, rng.normal(size=(64, 24, 2)).astype("float32")),
        "cnn": (_dilated_cnn, rng.random((64, 10, 10, 1)).astype("float32")),
    }[name]
    keras.utils.set_random_seed(0)
    extractor = build()
    decoder = None
    if tied:  # the separable convolution's mirror keeps its own kernel
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "mirror.tied=True.: the mirrors of")
            decoder = keras_ganinit.mirror(extractor, tied=True)
    gan = keras_ganinit.GanInitModel(extractor, decoder=decoder, seed=0)
    gan.compile()
    history = gan.fit(x, steps=2, batch_size=32, verbose=0)
    assert np.isfinite(history.history["g_loss"]).all()
    # The saved file round-trips with the explicitly dilated mirror.
    path = tmp_path / f"{name}.keras"
    gan.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        ops.convert_to_numpy(loaded.decoder(loaded.extractor(x[:4]))),
        ops.convert_to_numpy(gan.decoder(gan.extractor(x[:4]))),
        rtol=1e-5,
        atol=1e-6,
    )
