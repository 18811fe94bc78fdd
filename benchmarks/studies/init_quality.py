"""Does the start speed up supervised training, and is it worth its cost?

Each method initializes a small classifier's feature extractor; the
classifier (it and a softmax head, Glorot-uniform from the seed) is then
trained with batch 64 and tested after every epoch. A seed gives every
method the same labels, head and batch order, so differences are paired.
Per cell and method: the test accuracy at epochs 1, 3, 10 and the last, the
difference from He at epoch 3, the epochs to He's final mean accuracy and
the seconds to it with the pretraining or setup counted, diverged runs (a
loss not finite or grown 100-fold).

Cells are dataset-network-activation-optimizer-labels. "classic" (48):
digits (1,257 train / 540 test), mnist1d (`data.mnist1d(5000)`: 4,000 /
1,000) or mnist1d-40k (`data.mnist1d(50000)`); `networks.extractor` "mlp"
(Dense 64 - 32) or "cnn" (Conv 16 - MaxPool - Conv 32; Conv1D on MNIST-1D);
relu or tanh; Adam(1e-3) or SGD(0.05); "all" labels or the first "10pct"
(the methods see every training input, unlabelled). `--grid deep` (12):
digits, "deepmlp" (12 Dense(64)) or "deepcnn" (10 Conv(16)), relu, tanh or
sigmoid, Adam or SGD, all labels.

Methods: the registry's He, Glorot, LeCun, Orthogonal, RandomNormal(0.02),
LSUV, AnyInit, Calibration, AE, GAN (paper) and GAN (pretraining: the
default 200 steps of batch 32); 15 epochs; seeds 10-12 (0-2 chose the
defaults). Pretraining sees no labels and no optimizer: it runs once per
dataset, network, activation and seed, and the cells sharing it report its
seconds. Training seconds are `training.train`'s fit seconds, on one
classifier compiled per cell (`training.Reused`, traced by a first epoch).

    python -m benchmarks init_quality --quick  # digits-cnn-relu-sgd-10pct, 3 epochs
    python -m benchmarks init_quality --cells digits-cnn-relu-sgd-10pct --methods He GAN
"""

import collections
import functools
import itertools
import os
import time

import numpy as np

from benchmarks import data, methods, networks, reports, statistics, training
from benchmarks.study import Study

DATASETS = {
    "digits": data.digits,
    "mnist1d": functools.partial(data.mnist1d, 5000),
    "mnist1d-40k": functools.partial(data.mnist1d, 50000),
}
GRIDS = {  # datasets, networks, activations, optimizers, labels
    "classic": (" ".join(DATASETS), "mlp cnn", "relu tanh", "adam sgd", "all 10pct"),
    "deep": ("digits", "deepmlp deepcnn", "relu tanh sigmoid", "adam sgd", "all"),
}
METHODS = [
    "He", "Glorot", "LeCun", "Orthogonal", "RandomNormal(0.02)", "LSUV",
    "AnyInit", "Calibration", "AE", "GAN (paper)", "GAN",
]  # fmt: skip
QUICK = ("digits-cnn-relu-sgd-10pct", ["He", "Calibration", "GAN"], 3)
REFERENCE, FOCUS, EARLY = "He", "GAN", 3  # the report's reference, focus, epoch
FIGURE = "init-quality.png"


def chosen(args):
    """(cells, methods, epochs) of a run: the options, or their defaults."""
    if args.quick:
        cells, names, epochs = [QUICK[0]], QUICK[1], QUICK[2]
    else:
        choices = (names.split() for names in GRIDS[args.grid])
        cells = ["-".join(c) for c in itertools.product(*choices)]
        names, epochs = METHODS, 15
    return args.cells or cells, args.methods or names, args.epochs or epochs


class InitQuality(Study):
    name = "init_quality"
    title = "Initialization quality: test accuracy per epoch from each start"
    seeds = (10, 11, 12)
    quick_seeds = (0, 1)

    def __init__(self):
        self.pretrained, self.reused = {}, (None, None)

    def add_arguments(self, parser):
        parser.add_argument("--grid", choices=sorted(GRIDS), default="classic")
        parser.add_argument(
            "--cells", nargs="+", help="e.g. mnist1d-cnn-tanh-sgd-10pct"
        )
        parser.add_argument(
            "--methods", nargs="+", choices=sorted(methods.METHODS), metavar="METHOD"
        )
        parser.add_argument("--epochs", type=int, help="default 15 (quick: 3)")

    def describe(self, args):
        cells, names, epochs = chosen(args)
        budget = methods.Budget.of(args.quick)
        return dict(cells=cells, methods=names, epochs=epochs, budget=str(budget))

    def plan(self, args):
        cells, names, _ = chosen(args)
        for cell in cells:
            if cell.count("-") < 4 or cell.rsplit("-", 4)[0] not in DATASETS:
                raise SystemExit(
                    f"cell {cell!r}: expected e.g. digits-mlp-tanh-sgd-all"
                )
        runs = itertools.product(cells, names, args.seeds)
        return [dict(cell=c, method=m, seed=s) for c, m, s in runs]

    def run_one(self, args, cell, method, seed):
        dataset, network, activation, optimizer, labels = cell.rsplit("-", 4)
        split = DATASETS[dataset]()
        build = functools.partial(networks.extractor, network, split.shape, activation)
        key = (dataset, network, activation, method, seed)
        if key not in self.pretrained:  # shared by optimizers and label fractions
            start = time.perf_counter()
            budget = methods.Budget.of(args.quick)
            model = methods.initialize(method, build, split.x_train, seed, budget)
            self.pretrained[key] = model.get_weights(), time.perf_counter() - start
        weights, pretrain_s = self.pretrained[key]
        if labels != "all":
            split = split.head(len(split.x_train) * int(labels[: -len("pct")]) // 100)
        if self.reused[0] != cell:  # one compiled classifier per cell, traced here
            optimizer = training.optimizer(optimizer)
            reused = training.Reused(build(), split.classes, optimizer)
            reused.train(weights, split, seed, epochs=1)
            self.reused = cell, reused
        curve = self.reused[1].train(weights, split, seed, epochs=chosen(args)[2])
        return dict(
            accuracy=curve.accuracy, epoch_s=curve.seconds, train_s=curve.seconds[-1],
            pretrain_s=pretrain_s, diverged=curve.diverged,
        )  # fmt: skip

    def tolerated(self, run):
        return run.get("method") == "AnyInit"  # a peer refusing a network

    def report(self, meta, runs, out):
        cells = grouped(runs)
        names = list(dict.fromkeys(r["method"] for r in runs if "failed" not in r))
        lines = reports.header(self.title, meta, self.question)
        lines += [meta["note"], ""] if meta.get("note") else []
        lines += reports.failures(runs)
        lines += [
            "",
            "Test accuracy after each epoch. A difference is a method's accuracy "
            "minus another's, paired by seed, in accuracy points: the mean and its "
            "Student-t 95% interval over seeds (`+2.0 [-0.5, +4.5]`; the mean alone "
            "for one seed); an accuracy is the mean ± the sample sd (ddof=1) over "
            f'seeds. "to {REFERENCE}\'s final": the first epoch whose mean '
            f"accuracy reaches {REFERENCE}'s mean at the last epoch, and the mean "
            "seconds to its end, pretraining or setup included (- where never, or "
            "where per-epoch seconds were not recorded).",
            "",
            f"### {FOCUS} against {REFERENCE}, and the best start, per cell",
            "",
            *overview(cells),
            "",
            f"### Each method across cells, at epoch {EARLY}",
            "",
            *across(cells, names),
            "",
            "### Per cell",
        ]
        plot(cells, names, os.path.join(out, FIGURE))
        for cell, group in cells.items():
            lines += ["", f"#### {cell}", "", cell_table(group)]
        return "\n".join(lines)


def grouped(runs):
    """{cell: {method: {seed: run}}} of the runs that trained."""
    cells = {}
    for run in runs:
        if "failed" not in run:
            cell = cells.setdefault(run["cell"], {})
            cell.setdefault(run["method"], {})[run["seed"]] = run
    return cells


def accuracy(group, epoch=None):
    """{seed: test accuracy after `epoch` (None or past the end: the last)}."""
    return {
        seed: run["accuracy"][min(epoch or 10**9, len(run["accuracy"])) - 1]
        for seed, run in group.items()
    }


def mean(group, epoch=None):
    return float(np.mean(list(accuracy(group, epoch).values())))


def versus(cell, method, other, epoch=None):
    """`method` minus `other` in `cell`, paired by seed: an Interval, or None."""
    if method not in cell or other not in cell:
        return None
    a, b = accuracy(cell[method], epoch), accuracy(cell[other], epoch)
    seeds = sorted(a.keys() & b.keys())
    return statistics.paired([a[s] - b[s] for s in seeds]) if seeds else None


def points(interval):
    return interval.points() if interval else "-"


def best(cell, epoch=EARLY):
    return max(cell, key=lambda method: mean(cell[method], epoch))


def reach(cell, method):
    """(epochs, seconds) to `REFERENCE`'s final mean accuracy, as "-" if not."""
    group = cell[method]
    target = mean(cell[REFERENCE]) - 1e-9 if REFERENCE in cell else np.inf
    curve = np.mean([run["accuracy"] for run in group.values()], axis=0)
    hits = np.flatnonzero(curve >= target)
    if not len(hits):
        return "-", "-"
    epoch = int(hits[0]) + 1
    if not all(run.get("epoch_s") for run in group.values()):
        return epoch, "-"
    seconds = [run["pretrain_s"] + run["epoch_s"][epoch - 1] for run in group.values()]
    return epoch, f"{np.mean(seconds):.1f}"


def overview(cells):
    """The per-cell table of FOCUS against REFERENCE and the best, its counts."""
    rows, n = [], collections.Counter()
    for name, cell in cells.items():
        early, top = versus(cell, FOCUS, REFERENCE, EARLY), best(cell)
        gap = versus(cell, FOCUS, top, EARLY) if top != FOCUS else None
        (e1, s1), (e2, s2) = (
            reach(cell, m) if m in cell else ("-", "-") for m in (FOCUS, REFERENCE)
        )
        rows.append([
            name, f"{mean(cell[REFERENCE], EARLY):.3f}" if REFERENCE in cell else "-",
            points(early), points(versus(cell, FOCUS, REFERENCE)),
            f"{top} {mean(cell[top], EARLY):.3f}", points(gap),
            f"{e1} / {e2}", f"{s1} / {s2}",
        ])  # fmt: skip
        if early:
            timed = "-" not in (s1, s2)
            for key, hit in dict(
                cells=1, above=early.above_zero, below=early.below_zero, timed=timed,
                best=top == FOCUS, behind=bool(gap and gap.below_zero),
                sooner=timed and float(s1) < float(s2),
            ).items():  # fmt: skip
                n[key] += hit
    header = [
        "cell", f"{REFERENCE}, epoch {EARLY}", f"{FOCUS} − {REFERENCE}, epoch {EARLY}",
        f"{FOCUS} − {REFERENCE}, last epoch", f"best at epoch {EARLY}",
        f"{FOCUS} − best, epoch {EARLY}",
        f"epochs to {REFERENCE}'s final, {FOCUS} / {REFERENCE}",
        f"seconds to {REFERENCE}'s final, {FOCUS} / {REFERENCE}",
    ]  # fmt: skip
    return [
        reports.markdown_table(header, rows),
        "",
        f"At epoch {EARLY}, {FOCUS} − {REFERENCE} is above zero in {n['above']} of "
        f"{n['cells']} cells, below zero in {n['below']} and level (the interval "
        f"holds zero) in the other {n['cells'] - n['above'] - n['below']}; {FOCUS} "
        f"is the best start in {n['best']} and below the best (its interval under "
        f"zero) in {n['behind']}. It reaches {REFERENCE}'s final accuracy in fewer "
        f"seconds than {REFERENCE}, pretraining counted, in {n['sooner']} of the "
        f"{n['timed']} cells where both reach it and per-epoch seconds were recorded.",
    ]


def across(cells, names):
    """Per method: its mean difference from REFERENCE, cells above/below, best in."""
    rows = []
    for name in names:
        where = [cell for cell in cells.values() if name in cell]
        diffs = [versus(cell, name, REFERENCE, EARLY) for cell in where]
        diffs = [d for d in diffs if d]
        runs = [run for cell in where for run in cell[name].values()]
        rows.append([
            name, len(where),
            f"{100 * np.mean([d.mean for d in diffs]):+.1f}" if diffs else "-",
            f"{sum(d.above_zero for d in diffs)} / {sum(d.below_zero for d in diffs)}",
            sum(best(cell) == name for cell in where),
            f"{np.median([run['pretrain_s'] for run in runs]):.2f}",
            f"{sum(run['diverged'] for run in runs)}/{len(runs)}",
        ])  # fmt: skip
    header = [
        "method", "cells", f"mean − {REFERENCE}, points",
        f"cells above / below {REFERENCE}", "best in",
        "median pretraining or setup s", "diverged",
    ]  # fmt: skip
    return [reports.markdown_table(header, rows)]


def cell_table(cell):
    """One cell: each method's accuracies, difference, reach, cost, divergence."""
    epochs = len(next(iter(next(iter(cell.values())).values()))["accuracy"])
    shown = [e for e in (1, EARLY, 10) if e < epochs] + [epochs]
    rows = []
    for name, group in cell.items():
        runs = list(group.values())
        at = (statistics.mean_sd(list(accuracy(group, e).values())) for e in shown)
        rows.append([
            name, *at,
            points(versus(cell, name, REFERENCE, EARLY)) if name != REFERENCE else "",
            *reach(cell, name), f"{np.mean([r['pretrain_s'] for r in runs]):.1f}",
            f"{sum(r['diverged'] for r in runs)}/{len(runs)}",
        ])  # fmt: skip
    header = [
        "method", *(f"epoch {e}" for e in shown), f"− {REFERENCE}, epoch {EARLY}",
        f"epochs to {REFERENCE}'s final", "s to it", "pretraining s", "diverged",
    ]  # fmt: skip
    return reports.markdown_table(header, rows)


def plot(cells, names, path):
    """Per method, each cell's mean epoch-EARLY accuracy minus REFERENCE's."""
    with reports.figure(path, figsize=(max(6, 0.7 * len(names)), 4.5)) as (_, axes):
        axis = axes[0][0]
        for i, name in enumerate(names):
            diffs = [
                100 * (mean(cell[name], EARLY) - mean(cell[REFERENCE], EARLY))
                for cell in cells.values()
                if name in cell and REFERENCE in cell
            ]
            axis.scatter(i + np.linspace(-0.2, 0.2, len(diffs)), diffs, s=12, alpha=0.6)
            axis.hlines(np.median(diffs), i - 0.3, i + 0.3, color="black")
        axis.axhline(0, color="grey", linewidth=0.8)
        axis.set_xticks(range(len(names)), names, rotation=35, ha="right")
        axis.set_ylabel(f"epoch-{EARLY} accuracy − {REFERENCE}'s, points")
        axis.set_title("one dot per cell (mean over seeds); bar: the median over cells")
        axis.grid(alpha=0.3, axis="y")


STUDY = InitQuality()
