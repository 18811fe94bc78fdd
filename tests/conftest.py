"""Shared fixtures: scikit-learn's bundled digits and GANs trained on them once.

Tests marked `large` (subprocesses, whole examples, keras.applications
backbones, multi-process runs) are skipped unless pytest runs with
`--run-large`, as keras-hub does; .ci/run runs them once, on one backend.

Tests marked `channels_first` run channels_first convolutions. TensorFlow's
Eigen CPU kernels (x86 CPUs without AVX-512, or `TF_ENABLE_ONEDNN_OPTS=0`)
only run channels_last ones, so these tests are skipped, with the reason,
where a probe finds that this platform cannot run them; they run on JAX,
PyTorch, and TensorFlow with oneDNN or a GPU.
"""

import functools
import os
import re
import shutil
import tempfile

# JAX compiles every op for every new shape, and the suite builds hundreds of
# small models: on a CPU that compiling, not the running, takes most of JAX's
# time. XLA's backend optimizations change no result these tests check
# (shapes, finiteness, seeded equalities on one backend, tolerances), and
# without them JAX's suite runs in about half the time. Set before Keras
# imports JAX; a user's own XLA_FLAGS are kept.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + " --xla_backend_optimization_level=0"
        + " --xla_llvm_disable_expensive_passes=true"
    ).strip()

# Under pytest-xdist (pyproject.toml runs two workers), each worker computes
# on one thread: the models are tiny, and two workers that each spread over
# every core only contend for them. Set before the backends are imported.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for variable in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ.setdefault(variable, "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    if "intra_op_parallelism_threads" not in os.environ["XLA_FLAGS"]:
        os.environ["XLA_FLAGS"] += (
            " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )

# JAX's persistent compilation cache, fresh for each session and shared by
# its workers: the suite compiles the same small computations in many tests
# (the same GAN on the digits), and a hit skips the compiling.
_JAX_CACHE = None
if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    _JAX_CACHE = tempfile.mkdtemp(prefix="keras_ganinit_jax_cache_")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _JAX_CACHE
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "-1"

import keras  # noqa: E402
import pytest  # noqa: E402
from helpers import dense_extractor  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import keras_ganinit  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        "--run-large",
        action="store_true",
        help="also run the tests marked large (minutes each on 2 CPUs)",
    )


def pytest_unconfigure(config):
    if _JAX_CACHE:  # made by this process (the controller, or a run with -n 0)
        shutil.rmtree(_JAX_CACHE, ignore_errors=True)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "large: a slow end-to-end test, run only with --run-large"
    )
    config.addinivalue_line(
        "markers",
        "channels_first: runs channels_first convolutions (skipped where the "
        "platform's kernels cannot)",
    )
    if config.getoption("--run-large"):
        # Read by test modules at import (test_properties draws every example).
        os.environ["KERAS_GANINIT_RUN_LARGE"] = "1"


@functools.cache
def channels_first_fails():
    """Why this platform cannot run a channels_first convolution, or None.

    Probed once, by running one (forward and transposed), not guessed from
    the CPU's name.
    """
    x = keras.ops.ones((1, 2, 5, 5))
    try:
        y = keras.layers.Conv2D(2, 3, data_format="channels_first")(x)
        keras.layers.Conv2DTranspose(2, 3, data_format="channels_first")(y)
    except Exception as error:  # TensorFlow: UnimplementedError, InvalidArgument
        text = re.sub(r"\x1b\[[0-9;]*m|\{\{[^}]*\}\}", "", str(error))
        lines = [line.strip() for line in text.splitlines()]
        said = [line for line in lines if "support" in line] or lines
        return f"{type(error).__name__}: {said[0] if said else ''}"
    return None


def pytest_collection_modifyitems(config, items):
    large = not config.getoption("--run-large")
    skip_large = pytest.mark.skip(reason="large: run with --run-large")
    for item in items:
        if large and "large" in item.keywords:
            item.add_marker(skip_large)
        elif "channels_first" in item.keywords and channels_first_fails():
            reason = (
                f"this platform's {keras.backend.backend()} kernels run no "
                f"channels_first convolution: {channels_first_fails()}"
            )
            item.add_marker(pytest.mark.skip(reason=reason[:300]))


@pytest.fixture(scope="session")
def digits():
    """(x, y): 1797 digits, 64 features scaled to [0, 1], labels 0-9."""
    data = load_digits()
    return (data.data / 16.0).astype("float32"), data.target.astype("int32")


@pytest.fixture(scope="session")
def digit_images(digits):
    """The digits as (1797, 8, 8, 1) images."""
    return digits[0].reshape(-1, 8, 8, 1)


@pytest.fixture(scope="module")
def trained_gan(digits):
    """A dense GanInitModel pretrained for 3 epochs on the digits."""
    keras.utils.set_random_seed(0)
    gan = keras_ganinit.GanInitModel(dense_extractor())
    gan.compile()
    gan.history_ = gan.fit(digits[0], epochs=3, batch_size=64, verbose=0)
    return gan


@pytest.fixture(scope="module")
def saved_gan(trained_gan, tmp_path_factory):
    """The trained dense GAN saved to a .keras file: (path, gan)."""
    path = tmp_path_factory.mktemp("source") / "pretrained.keras"
    trained_gan.save(path)
    return str(path), trained_gan


@pytest.fixture(scope="module")
def standardized(digits):
    """256 digits with every pixel at zero mean and unit std."""
    x = digits[0]
    return ((x - x.mean(0)) / (x.std(0) + 1e-3)).astype("float32")[:256]
