"""Pretraining budgeted in steps: fit(steps=N) against the same steps as epochs.

On the digits (1,797 samples, batch 64: 29 steps an epoch), times
`GanInitModel.fit(x, epochs=21)` (609 steps) against
`GanInitModel.fit(x, steps=609)` (the same 609 steps in one epoch), side by
side in one process per backend, best of `--repeats`, and prints the ratio.
Both train the same Dense extractor with calibration off, so only the cost
of Keras's per-epoch machinery differs.

    python benchmarks/step_budget.py            # ~2 minutes on 2 CPUs
    python benchmarks/step_budget.py --quick    # smoke test (CI)
"""

import argparse
import json
import os
import subprocess
import sys
import time

from _tables import markdown_header, markdown_row

BACKENDS = ("tensorflow", "jax", "torch")


def measure(epochs, repeats):
    import keras
    from keras import layers
    from sklearn.datasets import load_digits

    import keras_ganinit

    x = (load_digits().data / 16.0).astype("float32")
    steps_per_epoch = -(-len(x) // 64)
    steps = epochs * steps_per_epoch

    def run(**budget):
        keras.utils.set_random_seed(0)
        extractor = keras.Sequential(
            [
                keras.Input((64,)),
                layers.Dense(128, activation="relu"),
                layers.Dense(32, activation="relu"),
            ]
        )
        gan = keras_ganinit.GanInitModel(extractor, calibration=False)
        gan.compile()
        start = time.perf_counter()
        gan.fit(x, batch_size=64, verbose=0, **budget)
        seconds = time.perf_counter() - start
        assert int(gan.generator_optimizer.iterations.numpy()) == steps
        return seconds

    times = {"epochs": [], "steps": []}
    for _ in range(repeats):  # Alternating, so load changes hit both alike.
        times["epochs"].append(run(epochs=epochs))
        times["steps"].append(run(steps=steps))
    return {"count": steps, **{k: min(v) for k, v in times.items()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 epochs, 1 repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    args = parser.parse_args()
    epochs, repeats = (3, 1) if args.quick else (21, args.repeats)
    if args.backend:
        print(json.dumps(measure(epochs, repeats)))
        return
    # The table's rows are printed as each backend's process ends.
    print(
        markdown_header(
            ["backend", "steps", "fit(epochs=...) s", "fit(steps=...) s", "ratio"]
        ),
        flush=True,
    )
    for backend in BACKENDS:
        completed = subprocess.run(
            [sys.executable, __file__, "--backend", backend]
            + (["--quick"] if args.quick else ["--repeats", str(repeats)]),
            env={**os.environ, "KERAS_BACKEND": backend},
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode:
            print(completed.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"{backend} failed")
        r = json.loads(completed.stdout.strip().splitlines()[-1])
        ratio = r["epochs"] / r["steps"]
        cells = [backend, r["count"], f"{r['epochs']:.2f}", f"{r['steps']:.2f}"]
        print(markdown_row([*cells, f"{ratio:.2f}x faster"]), flush=True)


if __name__ == "__main__":
    main()
