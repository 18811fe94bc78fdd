"""Transfer BatchNormalization too, or start it fresh? Side by side on digits.

A digits CNN whose extractor has BatchNormalization after each convolution
(Conv2D-BN-ReLU, pooling, Conv2D-BN-ReLU) is pretrained with the default
`GanInitModel` (which ends by calibrating, refreshing the BN moving statistics),
saved, and used through `GanPretrainedInitializer`, as a user would:

- "GAN, BN fresh": the conv kernels and biases from the file; BN starts as
  Keras's default (gamma 1, beta 0, moving mean 0, moving variance 1);
- "GAN, BN transferred": BN's gamma, beta, moving mean and moving variance
  from the file too;

against HeNormal and Orthogonal kernels with fresh BN. Prints validation
accuracy at epochs 1, 3 and last (mean ± std over seeds) and the transferred /
fresh ratio at epoch 3, and writes docs/benchmarks/normalization.md.

    python benchmarks/normalization_transfer.py            # ~6 min on 2 CPUs
    python benchmarks/normalization_transfer.py --quick    # 1 seed, 1 cell
"""

import argparse
import datetime
import os
import platform
import shlex
import sys
import tempfile
import time

import init_quality as iq
import keras
import numpy as np
from _tables import markdown_table, mean_std
from keras import layers

import keras_ganinit

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "docs", "benchmarks", "normalization.md")
PRETRAIN_EPOCHS = 30  # about 600 steps of batch 64 on digits, as init_quality
NORMALIZATION = ("gamma", "beta", "moving_mean", "moving_variance")
NAMES = {"adam": "Adam(1e-3)", "sgd": "SGD(0.05)"}
METHODS = ("HeNormal", "Orthogonal", "GAN, BN fresh", "GAN, BN transferred")


def body(kernel=None, norm=None):
    """The extractor's layers; `kernel(name)`/`norm(name)` give initializer kwargs."""
    kernel = kernel or (lambda name: {})
    norm = norm or (lambda name: {})
    return [
        layers.Reshape((8, 8, 1), name="image"),
        layers.Conv2D(16, 3, padding="same", name="h1", **kernel("h1")),
        layers.BatchNormalization(name="bn1", **norm("bn1")),
        layers.ReLU(name="relu1"),
        layers.MaxPooling2D(2, name="pool"),
        layers.Conv2D(32, 3, name="h2", **kernel("h2")),
        layers.BatchNormalization(name="bn2", **norm("bn2")),
        layers.ReLU(name="relu2"),
        layers.Flatten(name="flat"),
    ]


def pretrained_file(x_train, seed, folder):
    keras.utils.set_random_seed(seed)
    extractor = keras.Sequential([keras.Input((64,)), *body()], name="extractor")
    gan = keras_ganinit.GanInitModel(extractor)
    gan.compile()
    gan.fit(x_train, epochs=PRETRAIN_EPOCHS, batch_size=64, verbose=0)
    path = os.path.join(folder, f"pretrained-{seed}.keras")
    gan.save(path)
    return path


def initializers(method, path, seed):
    init = keras_ganinit.GanPretrainedInitializer
    if method in ("HeNormal", "Orthogonal"):
        make = getattr(keras.initializers, method)
        return (lambda name: {"kernel_initializer": make(seed=seed)}), None

    def kernel(name):
        return {
            "kernel_initializer": init(path, name),
            "bias_initializer": init(path, name, variable="bias"),
        }

    def norm(name):
        return {f"{v}_initializer": init(path, name, variable=v) for v in NORMALIZATION}

    return kernel, (norm if method == "GAN, BN transferred" else None)


def train(method, path, data, cell, seed, epochs):
    keras.utils.set_random_seed(seed)
    kernel, norm = initializers(method, path, seed)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            *body(kernel, norm),
            layers.Dense(
                10,
                activation="softmax",
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
            ),
        ]
    )
    return iq.fit_classifier(model, cell, data, epochs)[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 1 cell")
    parser.add_argument("--out", default=OUT, help="the Markdown report to write")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    seeds = [10] if args.quick else [10, 11, 12]
    epochs = 3 if args.quick else 10
    cells = [
        {"optimizer": optimizer, "labels": labels}
        for optimizer in ("adam", "sgd")
        for labels in (1.0, 0.1)
    ][: 1 if args.quick else None]
    start = time.perf_counter()
    results = {}  # (cell index, method) -> list of accuracy curves
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            data = iq.load("digits", seed)
            path = pretrained_file(data[0], seed, folder)
            for index, cell in enumerate(cells):
                for method in METHODS:
                    curve = train(method, path, data, cell, seed, epochs)
                    results.setdefault((index, method), []).append(curve)
    minutes = (time.perf_counter() - start) / 60
    command = shlex.join(["python", "benchmarks/normalization_transfer.py", *argv])
    lines = [
        "# BatchNormalization: transferred or fresh",
        "",
        f"Produced by `{command}` "
        f"on {datetime.date.today()}, {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Keras {keras.__version__} ({keras.backend.backend()}), in {minutes:.0f} "
        f"minutes. digits CNN with BatchNormalization after each convolution, "
        f"ReLU; seeds {seeds[0]}-{seeds[-1]}; {epochs} supervised epochs; GAN "
        f"(default) pretrained {PRETRAIN_EPOCHS} epochs. Validation accuracy, "
        f"mean ± std over seeds.",
        "",
    ]
    last = epochs
    for index, cell in enumerate(cells):
        labels = "all labels" if cell["labels"] == 1.0 else "10% of labels"
        rows = []
        for method in METHODS:
            acc = np.asarray(results[(index, method)])
            at = [acc[:, e - 1] for e in (1, 3, last)]
            rows.append([method, *(mean_std(a.mean(), a.std()) for a in at)])
        lines += [
            f"## {NAMES[cell['optimizer']]}, {labels}",
            "",
            markdown_table(["method", "epoch 1", "epoch 3", f"epoch {last}"], rows),
        ]
        fresh = np.asarray(results[(index, "GAN, BN fresh")])[:, 2].mean()
        moved = np.asarray(results[(index, "GAN, BN transferred")])[:, 2].mean()
        lines += [
            "",
            f"Epoch 3, BN transferred / BN fresh: {moved / fresh:.3f}",
            "",
        ]
    report = "\n".join(lines)
    print(report)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        handle.write(report)


if __name__ == "__main__":
    main()
