"""Does pretraining ever leave a user worse off than calibration alone?

GanInitModel's fallback compares the effective rank of the calibrated,
pretrained extractor's features with that of its calibrated start, and keeps
the start when pretraining collapsed them below half. Per network and seed
on the digits: both effective ranks, whether the fallback fired, and the
test accuracy of SGD (0.01, momentum 0.9, batch 64) at epochs 3 and 10 for
calibration alone, GAN init with the fallback off, and GAN init as it ships.
All three start from the same Glorot-uniform weights.
"""

import functools

import keras

from benchmarks import data, methods, networks, reports, statistics, training
from benchmarks.study import Study
from keras_ganinit._src.diagnostics.statistics import effective_rank

NETWORKS = ("mlp", "cnn", "deepmlp", "deepcnn")
ACTIVATIONS = ("relu", "tanh")
ARMS = {
    "calibration alone": methods.METHODS["Calibration"],
    "GAN init, fallback off": methods.gan(fallback=False),
    "GAN init, fallback on": methods.METHODS["GAN"],
}


class DoNoHarm(Study):
    name = "do_no_harm"
    title = "Do no harm: GAN init's fallback against calibration alone"
    seeds = (0, 1)

    def plan(self, args):
        cells = [("deepcnn", "relu")] if args.quick else [
            (n, a) for a in ACTIVATIONS for n in NETWORKS
        ]  # fmt: skip
        return [
            dict(network=n, activation=a, seed=s) for n, a in cells for s in args.seeds
        ]

    def run_one(self, args, network, activation, seed):
        split = data.digits()
        build = functools.partial(networks.extractor, network, split.shape, activation)
        epochs = 3 if args.quick else 10
        budget = methods.Budget.of(args.quick)
        result = {"accuracy": {}, "ranks": {}}
        for arm, method in ARMS.items():
            model = method.run(build, split.x_train, seed, budget)
            features = model.predict(split.x_train[: methods.SAMPLES], verbose=0)
            result["ranks"][arm] = effective_rank(features)
            optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
            curve = training.train(
                training.classifier(model, split.classes, seed), split, optimizer,
                epochs=epochs, seed=seed,
            )  # fmt: skip
            result["accuracy"][arm] = [curve.accuracy[2], curve.accuracy[-1]]
        result["fell_back"] = bool(methods.LAST["gan"].fell_back)
        return result

    def report(self, meta, runs, out):
        done = [r for r in runs if "failed" not in r]
        rows = []
        for cell in dict.fromkeys((r["network"], r["activation"]) for r in done):
            cell_runs = [r for r in done if (r["network"], r["activation"]) == cell]
            ranks = [r["ranks"] for r in cell_runs]
            ratio = [
                k["GAN init, fallback off"] / k["calibration alone"] for k in ranks
            ]
            row = ["-".join(cell), statistics.mean_sd(ratio, 2)]
            row.append(f"{sum(r['fell_back'] for r in cell_runs)}/{len(cell_runs)}")
            for epoch in (0, 1):  # epoch 3, the last
                acc = {
                    arm: [r["accuracy"][arm][epoch] for r in cell_runs] for arm in ARMS
                }
                row += [statistics.mean_sd(acc[arm]) for arm in ARMS]
                shipped, alone = acc["GAN init, fallback on"], acc["calibration alone"]
                differences = [a - b for a, b in zip(shipped, alone, strict=True)]
                row.append(statistics.paired(differences).points())
            rows.append(row)
        header = [
            "network",
            "rank ratio, pretrained / start",
            "fell back",
            *(
                text
                for epoch in ("epoch 3", "last epoch")
                for text in (
                    *(f"{arm}, {epoch}" for arm in ARMS),
                    f"as it ships minus calibration alone, {epoch}",
                )
            ),
        ]
        lines = reports.header(self.title, meta, self.question)
        lines += reports.failures(runs)
        lines += [
            "Accuracies: mean ± sd (ddof=1) over seeds. Differences: paired by "
            "seed, in points, as mean [95% Student-t interval].",
            "",
            reports.markdown_table(header, rows),
        ]
        return "\n".join(lines)


STUDY = DoNoHarm()
