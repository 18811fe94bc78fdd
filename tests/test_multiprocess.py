"""Pretraining on two processes gives the weights of one process (JAX).

The recipe of docs/distributed.md, "Several hosts", on one machine: two
processes on 127.0.0.1 join one `keras.distribution.DataParallel` job over
CPU (gloo collectives) and pretrain a GanInitModel on the digits, 40 steps of
global batch 64, from the same seed and with the data in a fixed order
(calibration=False: only training is compared). Once each process feeds every
global batch (Keras splits it, the default), once each feeds only its half.
Another process trains alone on the same global batches. Both processes must
end with identical weights, and with those of the single process up to float
rounding (the gradient's sum over the batch is reduced in another order).

tests/scripts/jax_two_process.py runs under the JAX backend whatever backend
this suite runs under, so the test runs once, in the JAX run of the suite.
"""

import os
import pathlib
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).parent / "scripts" / "jax_two_process.py"
TIMEOUT = 240  # seconds for all five runs at once; about 40 s on 2 CPU cores
TOLERANCE = 1e-5  # measured: at most 6e-8 from the single process

# It runs its own JAX processes whatever the backend of this one: with
# --run-large (.ci/run), which runs the large tests once, on TensorFlow.
pytestmark = pytest.mark.large


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(out, *args):
    """Starts the script; its output goes to OUT.log (a pipe could fill up)."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    log = pathlib.Path(out).with_suffix(".log")
    with open(log, "w") as stream:
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(out), *args],
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    process.log = log
    return process


def finish(runs, timeout=TIMEOUT):
    """Waits for every run; stops the rest when one fails or time is up.

    Fails the test, showing the end of each run's output, unless every run
    exits with status 0.
    """
    deadline = time.monotonic() + timeout
    while any(p.poll() is None for p in runs.values()):
        failed = any(p.poll() not in (None, 0) for p in runs.values())
        if failed or time.monotonic() > deadline:
            for p in runs.values():
                if p.poll() is None:
                    p.kill()
            break
        time.sleep(0.2)
    for p in runs.values():
        p.wait()
    if any(p.returncode != 0 for p in runs.values()):
        report = "\n".join(
            f"--- {name} (exit status {p.returncode}; killed if negative, "
            f"timeout {timeout} s):\n{p.log.read_text(errors='replace')[-4000:]}"
            for name, p in runs.items()
        )
        pytest.fail(f"a pretraining process failed:\n{report}")


def weights(path, kind):
    result = np.load(path)
    count = len([key for key in result.files if key.startswith(f"{kind}_")])
    assert count == 4  # two Dense layers' kernels and biases
    return [result[f"{kind}_{i}"] for i in range(count)], result


def max_difference(a, b):
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b, strict=True))


FEEDS = ("global", "local")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """All five runs at once (2 CPU cores idle less): {name: OUT.npz}.

    "single": one process on the whole global batches. ("global", i) and
    ("local", i): process i of a two-process job; under "global" each process
    feeds every global batch and Keras gives it its half
    (auto_shard_dataset=True, the default); under "local" each feeds only its
    own half of every batch (auto_shard_dataset=False).
    """
    folder = tmp_path_factory.mktemp("multiprocess")
    outs = {"single": folder / "single.npz"}
    started = {"single": start(outs["single"], "single")}
    for feed in FEEDS:
        port = str(free_port())
        for i in range(2):
            outs[feed, i] = folder / f"{feed}{i}.npz"
            started[feed, i] = start(outs[feed, i], "multi", port, str(i), "2", feed)
    finish(started)
    return outs


@pytest.mark.parametrize("feed", FEEDS)
def test_two_processes_end_with_the_weights_of_one(runs, feed):
    outs = [runs[feed, i] for i in range(2)]
    single = runs["single"]
    (first, first_file), (second, second_file) = (weights(o, "final") for o in outs)
    alone, alone_file = weights(single, "final")

    for result, index in ((first_file, 0), (second_file, 1)):
        assert int(result["processes"]) == 2
        assert int(result["process_index"]) == index
        assert int(result["devices"]) == 2  # one CPU device in each process
    assert int(alone_file["processes"]) == 1

    # The same start everywhere, and training moved every weight far from it.
    start_weights = weights(single, "initial")[0]
    for out in outs:
        assert max_difference(weights(out, "initial")[0], start_weights) == 0.0
    assert all(
        max_difference([a], [s]) > 1e-2
        for a, s in zip(alone, start_weights, strict=True)
    )

    # Both processes hold one replicated copy of the weights.
    between = max_difference(first, second)
    assert between == 0.0
    versus_one = max_difference(first, alone)
    print(f"feed={feed}: max |two processes - one process| = {versus_one:.2e}")
    for a, b in zip(first, alone, strict=True):
        np.testing.assert_allclose(a, b, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(
        first_file["d_loss"], alone_file["d_loss"], atol=TOLERANCE, rtol=0
    )
