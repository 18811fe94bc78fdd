"""Should BatchNormalization be transferred or start fresh?

A digits CNN whose extractor has BatchNormalization after each convolution
(Conv2D(16)-BN-ReLU, MaxPool(2), Conv2D(32)-BN-ReLU, Flatten) is pretrained
once per seed with the default `GanInitModel` (30 epochs of batch 64, about
600 steps; its closing calibration refreshes the BN moving statistics),
saved to a .keras file, and read back through
`keras_ganinit.GanPretrainedInitializer`, as a user would:

- "GAN, BN fresh": the convolutions' kernels and biases from the file; BN
  starts as Keras's default (gamma 1, beta 0, moving mean 0, variance 1);
- "GAN, BN transferred": BN's gamma, beta and moving statistics from it too;
- "He", "Orthogonal": the registry's Keras initializers, BN fresh.

Cells: Adam(1e-3) or SGD(0.05), with all or 10% (125) of the labels; batch
64, 10 epochs, a Glorot-uniform head from the seed and one batch order per
seed for every method. Test accuracy after every epoch; the report gives
epochs 1, 3 and the last, and the paired difference transferred - fresh.
"""

import functools
import os
import tempfile

import keras
from keras import layers

import keras_ganinit
from benchmarks import data, methods, reports, statistics, training
from benchmarks.study import Study

EPOCHS, PRETRAIN_EPOCHS = 10, 30
NORMALIZATION = ("gamma", "beta", "moving_mean", "moving_variance")
CELLS = [(o, c) for o in ("adam", "sgd") for c in ("all labels", "10% of labels")]
FRESH, MOVED = "GAN, BN fresh", "GAN, BN transferred"


def extractor(kernel, norm=lambda name: {}):
    """The CNN; `kernel(name)` and `norm(name)` give each layer's initializers."""
    return keras.Sequential(
        [
            keras.Input((64,)),
            layers.Reshape((8, 8, 1)),
            layers.Conv2D(16, 3, padding="same", name="h1", **kernel("h1")),
            layers.BatchNormalization(name="bn1", **norm("bn1")),
            layers.ReLU(),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, name="h2", **kernel("h2")),
            layers.BatchNormalization(name="bn2", **norm("bn2")),
            layers.ReLU(),
            layers.Flatten(),
        ],
        name="extractor",
    )


@functools.cache
def pretrained_file(seed, budget):
    """The default GanInitModel, pretrained on the digits and saved."""
    keras.utils.set_random_seed(seed)
    gan = keras_ganinit.GanInitModel(extractor(lambda name: {}))
    gan.compile()
    length = {"epochs": budget.epochs} if budget.epochs else {"steps": budget.steps}
    gan.fit(data.digits().x_train, batch_size=budget.batch_size, verbose=0, **length)
    path = os.path.join(tempfile.mkdtemp(), f"pretrained-{seed}.keras")
    gan.save(path)
    return path


def from_file(build, x, seed, budget, transfer):
    init = functools.partial(
        keras_ganinit.GanPretrainedInitializer, pretrained_file(seed, budget)
    )
    return extractor(
        lambda name: dict(
            kernel_initializer=init(name), bias_initializer=init(name, variable="bias")
        ),
        lambda name: {f"{v}_initializer": init(name, variable=v) for v in NORMALIZATION}
        if transfer
        else {},
    )


ARMS = {
    "He": methods.METHODS["He"],
    "Orthogonal": methods.METHODS["Orthogonal"],
    FRESH: methods.Method(functools.partial(from_file, transfer=False)),
    MOVED: methods.Method(functools.partial(from_file, transfer=True)),
}


def points(runs, epoch, arm, reference):
    return statistics.paired(
        [r["accuracy"][arm][epoch] - r["accuracy"][reference][epoch] for r in runs]
    )


class Normalization(Study):
    name = "normalization"
    title = "BatchNormalization: transferred or fresh"
    question = "Should BatchNormalization be transferred or start fresh?"
    page = "normalization.md"

    def plan(self, args):
        cells = CELLS[:1] if args.quick else CELLS
        return [dict(cell=c, optimizer=o, seed=s) for o, c in cells for s in args.seeds]

    def run_one(self, args, cell, optimizer, seed):
        split = data.digits()
        labelled = split if cell == "all labels" else split.head(len(split.x_train) // 10)
        budget = methods.Budget.of(args.quick, epochs=PRETRAIN_EPOCHS)

        def build(make):
            return extractor(lambda name: {"kernel_initializer": make()})

        accuracy = {}
        for arm, method in ARMS.items():
            model = training.classifier(
                method.run(build, split.x_train, seed, budget), split.classes, seed
            )
            accuracy[arm] = training.train(
                model, labelled, training.optimizer(optimizer), seed=seed,
                epochs=3 if args.quick else EPOCHS,
            ).accuracy  # fmt: skip
        return {"accuracy": accuracy}

    def report(self, meta, runs, out):
        done = [r for r in runs if "failed" not in r]
        cells = list(dict.fromkeys((r["optimizer"], r["cell"]) for r in done))
        last = len(done[0]["accuracy"][FRESH]) if done else 0
        epochs = sorted({1, min(3, last), last})
        accuracy, differences = [], []
        with reports.figure(os.path.join(out, "normalization.png"), 1, 1) as (_, ax):
            for cell in cells:
                rs = [r for r in done if (r["optimizer"], r["cell"]) == cell]
                name = f"{training.optimizer(cell[0]).name}, {cell[1]}"
                for arm in ARMS:
                    at = [[r["accuracy"][arm][e - 1] for r in rs] for e in epochs]
                    accuracy.append([name, arm, *map(statistics.mean_sd, at)])
                moved = [points(rs, e - 1, MOVED, FRESH) for e in range(1, last + 1)]
                e3 = min(3, last) - 1
                differences.append(
                    [name, len(rs), *(moved[e - 1].points() for e in epochs)]
                    + [points(rs, e3, FRESH, m).points() for m in ("He", "Orthogonal")]
                )
                x = range(1, last + 1)
                ax[0, 0].plot(x, [100 * i.mean for i in moved], "o-", label=name)
                ax[0, 0].fill_between(
                    x, [100 * i.low for i in moved], [100 * i.high for i in moved],
                    alpha=0.15,
                )  # fmt: skip
            ax[0, 0].axhline(0, color="grey", lw=0.8)
            ax[0, 0].set(xlabel="epoch", ylabel="BN transferred - fresh, points")
            ax[0, 0].legend(fontsize=8)
        at = [f"epoch {e}" for e in epochs]
        lines = reports.header(self.title, meta, self.question)
        lines += reports.failures(runs)
        lines += [
            "Test accuracy, mean ± sd over seeds (sample sd, ddof=1):",
            "",
            reports.markdown_table(["cell", "method", *at], accuracy),
            "",
            "Paired differences in accuracy points, mean [95% Student-t interval "
            "over seeds]; each seed gives every method the same data, head and "
            "batch order:",
            "",
            reports.markdown_table(
                ["cell", "seeds", *(f"transferred - fresh, {e}" for e in at)]
                + [f"GAN BN fresh - {m}, epoch {e3 + 1}" for m in ("He", "Orthogonal")],
                differences,
            ),
        ]
        return "\n".join(lines)


STUDY = Normalization()
