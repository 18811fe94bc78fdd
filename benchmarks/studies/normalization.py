"""Should BatchNormalization be transferred or start fresh?

A digits CNN, Conv2D(16)-BN-ReLU-MaxPool-Conv2D(32)-BN-ReLU, is pretrained
once per seed with the default `GanInitModel` (30 epochs of batch 64; its
closing calibration refreshes BN's moving statistics), saved and read back
through `GanPretrainedInitializer` as a user would: "GAN, BN fresh" takes the
kernels and biases and starts BN as Keras does (gamma 1, beta 0, mean 0,
variance 1); "GAN, BN transferred" takes BN's gamma, beta and moving
statistics too; He and Orthogonal kernels start with BN fresh. Cells:
Adam(1e-3) or SGD(0.05), all or 10% (125) of the labels; 10 epochs of batch
64, a Glorot-uniform head and one batch order per seed for every method.
"""

import functools
import os
import tempfile

import keras
from keras import layers

import keras_ganinit
from benchmarks import data, methods, reports, statistics, training
from benchmarks.study import Study

NORMALIZATION = ("gamma", "beta", "moving_mean", "moving_variance")
CELLS = [(o, c) for o in ("adam", "sgd") for c in ("all labels", "10% of labels")]
FRESH, MOVED = "GAN, BN fresh", "GAN, BN transferred"
NAMES = {"adam": "Adam(1e-3)", "sgd": "SGD(0.05)"}


def extractor(kernel=lambda name: {}, norm=lambda name: {}):
    """The CNN; `kernel(name)` and `norm(name)` give a layer's initializers."""
    return keras.Sequential([
        keras.Input((64,)), layers.Reshape((8, 8, 1)),
        layers.Conv2D(16, 3, padding="same", name="h1", **kernel("h1")),
        layers.BatchNormalization(name="bn1", **norm("bn1")), layers.ReLU(),
        layers.MaxPooling2D(2), layers.Conv2D(32, 3, name="h2", **kernel("h2")),
        layers.BatchNormalization(name="bn2", **norm("bn2")), layers.ReLU(),
        layers.Flatten(),
    ])  # fmt: skip


def kernels(make):  # the registry's build: kernels from `make()`, BN fresh
    return extractor(lambda name: {"kernel_initializer": make()})


@functools.cache
def pretrained_file(seed, epochs):
    """The default GanInitModel, pretrained on the digits and saved."""
    keras.utils.set_random_seed(seed)
    gan = keras_ganinit.GanInitModel(extractor())
    gan.compile()
    gan.fit(data.digits().x_train, epochs=epochs, batch_size=64, verbose=0)
    gan.save(path := os.path.join(tempfile.mkdtemp(), f"pretrained-{seed}.keras"))
    return path


def from_file(build, x, seed, epochs, transfer):
    def init(name, variable):
        path = pretrained_file(seed, epochs)
        return keras_ganinit.GanPretrainedInitializer(path, name, variable=variable)

    return extractor(
        lambda n: {f"{v}_initializer": init(n, v) for v in ("kernel", "bias")},
        lambda n: {f"{v}_initializer": init(n, v) for v in NORMALIZATION * transfer},
    )


ARMS = {m: methods.METHODS[m] for m in ("He", "Orthogonal")} | {
    FRESH: methods.Method(functools.partial(from_file, transfer=False)),
    MOVED: methods.Method(functools.partial(from_file, transfer=True)),
}


def minus(runs, arm, reference, epoch):
    e = epoch - 1
    return statistics.paired(
        [r["accuracy"][arm][e] - r["accuracy"][reference][e] for r in runs]
    ).points()


class Normalization(Study):
    name = "normalization"
    title = "BatchNormalization: transferred or fresh"

    def plan(self, args):
        cells = CELLS[:1] if args.quick else CELLS
        return [dict(cell=c, optimizer=o, seed=s) for o, c in cells for s in args.seeds]

    def run_one(self, args, cell, optimizer, seed):
        split = data.digits()
        labelled = split.head(len(split.x_train) // (1 if "all" in cell else 10))
        epochs, pretraining = (3, 1) if args.quick else (10, 30)
        accuracy = {}
        for arm, method in ARMS.items():
            model = method.run(kernels, split.x_train, seed, pretraining)
            model = training.classifier(model, split.classes, seed)
            opt = training.optimizer(optimizer)
            curve = training.train(model, labelled, opt, epochs=epochs, seed=seed)
            accuracy[arm] = curve.accuracy
        return {"accuracy": accuracy}

    def report(self, meta, runs, out):
        done, accuracy, differences = [r for r in runs if "failed" not in r], [], []
        epochs = sorted({1, 3, len(done[0]["accuracy"][FRESH]) if done else 3})
        for cell in dict.fromkeys((r["optimizer"], r["cell"]) for r in done):
            rs = [r for r in done if (r["optimizer"], r["cell"]) == cell]
            name = f"{NAMES[cell[0]]}, {cell[1]}"
            for arm in ARMS:
                each = ([r["accuracy"][arm][e - 1] for r in rs] for e in epochs)
                accuracy.append([name, arm, *map(statistics.mean_sd, each)])
            differences.append(
                [name, len(rs), *(minus(rs, MOVED, FRESH, e) for e in epochs)]
                + [minus(rs, FRESH, m, 3) for m in ("He", "Orthogonal")]
            )
        at = [f"epoch {e}" for e in epochs]
        lines = reports.header(self.title, meta, self.question) + reports.failures(runs)
        return "\n".join(lines + [
            "Test accuracy, mean ± sd over seeds (sample sd, ddof=1):", "",
            reports.markdown_table(["cell", "method", *at], accuracy), "",
            "Paired differences by seed (the same data, head and batch order for "
            "every method), accuracy points: mean [95% Student-t interval].", "",
            reports.markdown_table(
                ["cell", "seeds", *(f"transferred - fresh, {e}" for e in at),
                 "fresh - He, epoch 3", "fresh - Orthogonal, epoch 3"], differences),
        ])  # fmt: skip


STUDY = Normalization()
