"""Does pretraining ever leave a user worse off than calibration alone?

GanInitModel's fallback compares the effective rank of the calibrated,
pretrained extractor's features with that of its calibrated starting
weights, and keeps the start when pretraining collapsed them below half.
This script measures, on the bundled digits, for each network and seed:
the two effective ranks and their ratio, whether the fallback fired, and the
test accuracy of SGD (momentum 0.9) at epoch 3 and 10 for calibration alone,
GAN init with the fallback switched off, and GAN init as it ships (fallback
on). Paired over seeds. `--quick` runs one network, one seed, few steps.

    python benchmarks/do_no_harm.py --out docs/benchmarks/do_no_harm
"""

import argparse
import json
import os
import time

import keras
import numpy as np
from _tables import markdown_table, mean_std
from keras import layers
from sklearn.datasets import load_digits

import keras_ganinit
from keras_ganinit._src.diagnostics.statistics import effective_rank


def networks(activation):
    def chain(hidden):
        return lambda: keras.Sequential([keras.Input((64,)), *hidden()], name="ext")

    return {
        f"mlp-{activation}": chain(
            lambda: [
                layers.Dense(128, activation=activation),
                layers.Dense(32, activation=activation),
            ]
        ),
        f"cnn-{activation}": chain(
            lambda: [
                layers.Reshape((8, 8, 1)),
                layers.Conv2D(16, 3, padding="same", activation=activation),
                layers.MaxPooling2D(2),
                layers.Conv2D(32, 3, activation=activation),
                layers.Flatten(),
            ]
        ),
        f"deepmlp-{activation}": chain(
            lambda: [layers.Dense(64, activation=activation) for _ in range(12)]
        ),
        f"deepcnn-{activation}": chain(
            lambda: (
                [layers.Reshape((8, 8, 1))]
                + [
                    layers.Conv2D(16, 3, padding="same", activation=activation)
                    for _ in range(10)
                ]
                + [layers.Flatten()]
            )
        ),
    }


def supervised(extractor, data, seed, epochs):
    (x, y), (x_test, y_test) = data
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([extractor, layers.Dense(10, activation="softmax")])
    model.compile(
        keras.optimizers.SGD(0.01, momentum=0.9),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x, y, epochs=epochs, batch_size=64, verbose=0,
        validation_data=(x_test, y_test),
    )  # fmt: skip
    accuracy = history.history["val_accuracy"]
    return accuracy[min(2, epochs - 1)], accuracy[-1]


def run_cell(make, data, seed, steps, epochs):
    x = data[0][0]
    keras.utils.set_random_seed(seed)
    start = make().get_weights()

    calibrated = make()
    calibrated.set_weights(start)
    keras_ganinit.calibrate(calibrated, x)
    start_rank = effective_rank(calibrated.predict(x[:512], verbose=0))

    results = {"calibration alone": supervised(calibrated, data, seed, epochs)}
    for fallback in (False, True):
        extractor = make()
        extractor.set_weights(start)
        gan = keras_ganinit.GanInitModel(extractor, seed=seed, fallback=fallback)
        gan.compile()
        began = time.perf_counter()
        gan.fit(x, steps=steps, verbose=0)
        seconds = time.perf_counter() - began
        gan_rank = effective_rank(extractor.predict(x[:512], verbose=0))
        name = "GAN init, fallback on" if fallback else "GAN init, fallback off"
        results[name] = supervised(extractor, data, seed, epochs)
        if fallback:
            fell_back, ranks = gan.fell_back, gan.feature_ranks
        else:
            pretrained_rank = gan_rank
    return {
        "accuracy": results,
        "pretrained_rank": pretrained_rank,
        "start_rank": start_rank,
        "fell_back": fell_back,
        "checked_ranks": ranks,
        "pretraining_seconds": seconds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", default="do_no_harm")
    args = parser.parse_args(argv)
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], digits.target[order]
    data = ((x[:1400], y[:1400]), (x[1400:], y[1400:]))
    steps, epochs, seeds = (20, 3, 1) if args.quick else (200, 10, args.seeds)
    cells = {}
    for activation in ("relu",) if args.quick else ("relu", "tanh"):
        for name, make in networks(activation).items():
            if args.quick and not name.startswith("deepcnn"):
                continue
            cells[name] = [run_cell(make, data, s, steps, epochs) for s in range(seeds)]
            print(name, json.dumps(cells[name][-1]["accuracy"]), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as file:
        json.dump(cells, file, indent=1)
    rows = []
    for name, runs in cells.items():
        ratio = [r["pretrained_rank"] / r["start_rank"] for r in runs]
        row = [name, mean_std(np.mean(ratio), np.std(ratio), 2)]
        row.append(sum(bool(r["fell_back"]) for r in runs))
        for method in ("calibration alone", "GAN init, fallback off"):
            early = [r["accuracy"][method][0] for r in runs]
            row.append(mean_std(np.mean(early), np.std(early)))
        for method in ("GAN init, fallback on",):
            early = [r["accuracy"][method][0] for r in runs]
            row.append(mean_std(np.mean(early), np.std(early)))
        diff = [
            r["accuracy"]["GAN init, fallback on"][0]
            - r["accuracy"]["calibration alone"][0]
            for r in runs
        ]
        row.append(f"{np.mean(diff):+.3f} (min {np.min(diff):+.3f})")
        rows.append(row)
    header = [
        "network",
        "rank ratio (pretrained / start)",
        f"fell back (of {seeds})",
        "calibration alone, epoch 3",
        "GAN, fallback off, epoch 3",
        "GAN as it ships, epoch 3",
        "as it ships minus calibration, epoch 3",
    ]
    table = markdown_table(header, rows)
    with open(os.path.join(args.out, "report.md"), "w") as file:
        file.write(
            f"Digits, SGD(0.01, momentum 0.9), {steps} pretraining steps, "
            f"{epochs} epochs, {seeds} seeds, "
            f"backend {keras.backend.backend()}.\n\n{table}\n"
        )
    print(table)


if __name__ == "__main__":
    main()
