"""One train step gives the same weights on every backend and on several devices.

Each case runs tests/scripts/one_step.py in fresh Python processes (a backend,
or a device layout, is fixed when a process starts) from the same initial
weights and batch, with plain SGD so that any difference in the gradient
shows in the weights. They compare all three backends whichever backend this
suite runs under, so they run once, in the TensorFlow run.
"""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).parent / "scripts" / "one_step.py"

# Subprocesses on every backend: run with --run-large (.ci/run), once, in the
# TensorFlow run.
pytestmark = [
    pytest.mark.large,
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow",
        reason="cross-backend cases run once, in the TensorFlow run of the suite",
    ),
]


def one_step(tmp_path, backend, mode="single"):
    out = tmp_path / f"{backend}_{mode}.npz"
    env = {**os.environ, "KERAS_BACKEND": backend}
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), str(out), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    result = np.load(out)
    count = len([key for key in result.files if key.startswith("arr_")])
    return [result[f"arr_{i}"] for i in range(count)], result


def assert_same_weights(a, b, tolerance=1e-4):
    assert len(a) == len(b)
    for left, right in zip(a, b, strict=True):
        assert left.shape == right.shape
        np.testing.assert_allclose(left, right, atol=tolerance, rtol=0)


@pytest.fixture(scope="module")
def single_device(tmp_path_factory):
    folder = tmp_path_factory.mktemp("steps")
    return {b: one_step(folder, b) for b in ("tensorflow", "jax", "torch")}


def test_one_train_step_updates_every_weight_alike_on_all_backends(single_device):
    reference, _ = single_device["tensorflow"]
    initial = np.random.default_rng(0)  # the script's initial weights
    starts = [initial.normal(0.0, 0.2, w.shape).astype("float32") for w in reference]
    assert all(not np.allclose(s, w) for s, w in zip(starts, reference, strict=True))
    for backend in ("jax", "torch"):
        assert_same_weights(single_device[backend][0], reference)


def test_mirrored_strategy_two_replicas_match_one_device(single_device, tmp_path):
    weights, result = one_step(tmp_path, "tensorflow", "mirrored")
    assert int(result["replicas"]) == 2
    assert_same_weights(weights, single_device["tensorflow"][0])


def test_jax_data_parallel_two_devices_match_one_device(single_device, tmp_path):
    weights, result = one_step(tmp_path, "jax", "data_parallel")
    assert int(result["replicas"]) == 2
    assert_same_weights(weights, single_device["jax"][0])
