"""Does pretraining help when labels are few?

Each method initializes the cell's extractor from a large unlabelled pool
(or from nothing) once per seed; then, for each count of labels per class
(drawn per seed from a separate labelled pool), two test accuracies:

- linear probe: `keras_ganinit.linear_probe(extractor, x, y,
  validation_data=(x_test, y_test), seed=seed).accuracy`, a softmax layer on
  the frozen, standardized features;
- fine-tuned: the extractor and a softmax head (Glorot-uniform from the
  seed), Adam(1e-3), batches of min(32, labels), tested after 10, 25, 50,
  100 and 150 steps (quick: 5 and 25); one compiled classifier per cell.

Cells, with pools of 20,000 unlabelled / 4,000 labelled / 3,000 test (quick:
2,000 / 1,000 / 500) and 1, 4, 10, 40 labels per class (quick: 1, 10):

- mnist1d-cnn: `data.mnist1d`, networks' "cnn" (Conv1D(16, 5) - MaxPool -
  Conv1D(32, 3) - Flatten);
- mnist1d-mlp: the same data, "wide-mlp" (Dense(128) - Dense(128));
- shapes16-cnn: `data.shapes16`, "cnn" (Conv2D(16, 3) - MaxPool -
  Conv2D(32, 3) - Flatten).

Methods: the registry's He, Glorot, LSUV, AnyInit, Calibration, AE, DAE mask
0.25 and GAN, and (`--methods`) issue 22's `VARIANTS`; "N epochs" in a name:
N epochs over the pool (batch 64), not 200 steps of 32. A seed gives every
method the same labels, head, batch order and (from Glorot) start, so
differences against Calibration and the same-budget autoencoder are paired.
"""

import dataclasses
import functools
import itertools
import math
import os
import re
import time

import numpy as np

import keras_ganinit
from benchmarks import data, methods, networks, reports, statistics, training
from benchmarks.study import Study

CELLS = {"mnist1d-cnn": "cnn", "mnist1d-mlp": "wide-mlp", "shapes16-cnn": "cnn"}
SIZES = {False: (20_000, 4_000, 3_000), True: (2_000, 1_000, 500)}  # by --quick
LABELS = {False: (1, 4, 10, 40), True: (1, 10)}
CHECKPOINTS = {False: (10, 25, 50, 100, 150), True: (5, 25)}
EARLY = 25  # the early checkpoint the report gives beside the last
BASELINES = ["He", "Glorot", "LSUV", "AnyInit", "Calibration", "AE", "DAE mask 0.25"]
QUICK = ["He", "Calibration", "AE", "GAN"]
VARIANTS = {
    "GAN mask 0.25": methods.gan(autoencoder="DAE mask 0.25", mask=0.25),
    "GAN mask 0.5": methods.gan(mask=0.5),
    "GAN noise 0.5": methods.gan(noise=0.5),
    "GAN rw 0.1": methods.gan(reconstruction_weight=0.1),
    "GAN rw 10": methods.gan(reconstruction_weight=10.0),
    "GAN D lr 4e-4": methods.gan(d_lr=4e-4),
    "GAN D lr 1e-4": methods.gan(d_lr=1e-4),
}
for epochs, kept in ((3, ""), (10, ""), (10, ", rescaled")):  # budgets, spectrum
    ae, options = f"AE {epochs} epochs{kept}", dict(rescale=bool(kept))
    VARIANTS[ae] = methods.autoencoder(autoencoder=ae, **options)
    VARIANTS[f"GAN {epochs} epochs{kept}"] = methods.gan(autoencoder=ae, **options)
ALL = {**methods.METHODS, **VARIANTS}
# The AE of a dropped method whose stored runs are reported (BiGAN's etc.: AE).
STORED = {"GAN SN 10 epochs, rescaled": "AE 10 epochs, rescaled"}


@functools.cache
def pool(cell, quick):
    """(the unlabelled inputs, a Split of the labelled pool and the test set)."""
    n, m, t = SIZES[quick]
    if cell.startswith("mnist1d"):  # its own 80/20 split: n + m train rows
        split = data.mnist1d(math.ceil((n + m) / 0.8))
    else:  # standardized with the unlabelled pool's mean and sd
        split = data.shapes16(n, m + t)
    x = np.concatenate([split.x_train, split.x_test])
    y = np.concatenate([split.y_train, split.y_test])
    a, b = n + m, n + m + t
    return x[:n], data.Split(x[n:a], y[n:a], x[a:b], y[a:b], split.shape)


def draw(labelled, seed, per_class):
    """`per_class` labels of each class from the labelled pool, by seed."""
    rng = np.random.default_rng([seed, per_class])
    x, y = labelled.x_train, labelled.y_train
    pick = [np.flatnonzero(y == c) for c in range(labelled.classes)]
    rows = np.concatenate([rng.choice(p, per_class, replace=False) for p in pick])
    return dataclasses.replace(labelled, x_train=x[rows], y_train=y[rows])


@functools.cache
def classifier(cell, quick):
    """The cell's compiled classifier, traced on both batches before a run."""
    labelled = pool(cell, quick)[1]
    extractor = networks.extractor(CELLS[cell], labelled.shape)
    reused = training.Reused(extractor, labelled.classes, training.optimizer("adam"))
    for k in (1, 4):  # batches of 10 and 32
        few = draw(labelled, 0, k)
        reused.train(extractor.get_weights(), few, 0, checkpoints=[1], batch_size=32)
    return reused


class FewLabels(Study):
    name = "few_labels"
    title = "Few labels: pretraining against calibration alone and autoencoders"

    def add_arguments(self, parser):
        parser.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS))
        parser.add_argument("--methods", nargs="+", choices=ALL, metavar="METHOD")
        parser.add_argument("--labels", nargs="+", type=int, help="per class")

    def describe(self, args):
        args.labels = args.labels or LABELS[args.quick]
        return dict(
            pools="unlabelled/labelled/test = " + "/".join(map(str, SIZES[args.quick])),
            labels=list(args.labels),
            checkpoints=list(CHECKPOINTS[args.quick]),
        )

    def plan(self, args):
        chosen = args.methods or (QUICK if args.quick else [*BASELINES, "GAN"])
        keys = itertools.product(args.cells, chosen, args.seeds)
        return [dict(cell=c, method=m, seed=s) for c, m, s in keys]

    def run_one(self, args, cell, method, seed):
        x, labelled = pool(cell, args.quick)
        shape = labelled.shape
        build = functools.partial(networks.extractor, CELLS[cell], shape, "relu")
        epochs = re.search(r"(\d+) epochs", method)
        budget = methods.Budget.of(args.quick, epochs and int(epochs[1]))
        start = time.perf_counter()
        model = methods.initialize(method, build, x, seed, budget, ALL)
        result = {"pretrain_s": time.perf_counter() - start, "labels": {}}
        weights = model.get_weights()
        for k in args.labels:
            few = draw(labelled, seed, k)
            probe = keras_ganinit.linear_probe(
                model, few.x_train, few.y_train,
                validation_data=(few.x_test, few.y_test), seed=seed,
            )  # fmt: skip
            curve = classifier(cell, args.quick).train(
                weights, few, seed, checkpoints=CHECKPOINTS[args.quick], batch_size=32
            )
            result["labels"][str(k)] = {"probe": probe.accuracy, **curve.record()}
        return result

    def tolerated(self, run):
        return run["method"] == "AnyInit"  # the peer refuses some networks

    def report(self, meta, runs, out):
        done, table = [r for r in runs if "failed" not in r], {}
        for r in done:  # table: {cell: {method: {seed: run}}}
            table.setdefault(r["cell"], {}).setdefault(r["method"], {})[r["seed"]] = r
        labels = [{int(k) for k in r["labels"]} for r in done] or [set()]
        ks = sorted(set.intersection(*labels))  # every run has them
        few = [k for k in ks if k <= 10]
        lines = reports.header(self.title, meta, self.question)
        lines += [
            f"Pools: {meta.get('pools', '?')}. Accuracies: test accuracy, mean ± sd "
            "(ddof=1) over seeds. Δ: paired by seed, in accuracy points, mean "
            "[95% Student-t interval]; 'vs AE' is against the autoencoder of the "
            "same budget (named when it is not AE). Fine-tuned: at the last "
            f"checkpoint (steps {meta.get('checkpoints', '?')}), early: at "
            f"{EARLY}. 's to He's final': pretraining and fine-tuning seconds until "
            "the mean accuracy reaches He's mean final one.",
            "",
            *reports.failures(runs),
            "",
            f"## Goals (issue 22), labels per class ≤ {max(few, default=0)}",
            "",
            goals(table, few),
            "",
            "## Decision rule: fine-tuned Δ vs Calibration, per seed averaged "
            f"over {', '.join(map(str, few))} labels per class",
            "",
            rule(table, few),
        ]
        lines += sections(table, ks, cell_table)
        if table:
            plot(table, ks, os.path.join(out, "few_labels.png"))
        return "\n".join(lines)


def sections(table, ks, cell_table):
    """The report's lines for each cell and label count: `cell_table(by, k)`."""
    lines = []
    for cell, by in table.items():
        for k in ks:
            lines += ["", f"## {cell}, {k} labels per class", "", cell_table(by, k)]
    return lines


def ordered(names):
    """Method names in the registry's order, the stored ones last."""
    rank = list(ALL)
    return sorted(names, key=lambda m: (rank.index(m) if m in rank else len(rank), m))


def autoencoder_of(method):
    """The autoencoder of `method`'s budget (AE for the autoencoders themselves)."""
    ae = ALL[method].autoencoder if method in ALL else STORED.get(method, "AE")
    return "AE" if ae == method else ae


def gans(table):
    """The GAN methods in `table`: as it ships, the variants, the stored ones."""
    names = {m for by in table.values() for m in by}
    return [m for m in ordered(names) if m not in ALL or ALL[m].group != "baseline"]


def value(run, k, what):
    """The probe, or the fine-tuned accuracy at the end ("final") or at EARLY."""
    entry = run["labels"][str(k)]
    if what == "probe":
        return entry["probe"]
    at = entry["checkpoints"].index(EARLY) if what == "early" else -1
    return entry["accuracy"][at]


def paired(by, method, reference, ks, what="final"):
    """The Interval of per-seed differences method - reference, averaged over
    the label counts `ks`, on the seeds that have both (or None)."""
    a, b = by.get(method, {}), by.get(reference, {})
    if method == reference or not (seeds := [s for s in a if s in b]):
        return None
    diffs = [[value(a[s], k, what) - value(b[s], k, what) for k in ks] for s in seeds]
    return statistics.paired(np.mean(diffs, axis=1))


def text(interval):
    return "" if interval is None else interval.points()


def goals(table, few):
    """Issue 22's goals per GAN method: in how many cells each is met."""
    rows = []
    for method in gans(table):
        counts, worst, cells = [0, 0, 0], None, 0
        for by in (by for by in table.values() if method in by and "Calibration" in by):
            cells, ok = cells + 1, [True] * 3
            for k in few:
                cal = paired(by, method, "Calibration", [k])
                ae = paired(by, method, autoencoder_of(method), [k])
                probe = paired(by, method, "Calibration", [k], "probe")
                ok[0] &= cal.mean >= 0.05 and cal.above_zero
                ok[1] &= ae is not None and ae.mean >= 0.02
                ok[2] &= probe.mean >= 0.05
                worst = cal if worst is None or cal.mean < worst.mean else worst
            counts = [c + o for c, o in zip(counts, ok, strict=True)]
        rows.append([method, *(f"{c}/{cells}" for c in counts), text(worst)])
    header = ["method", "cells: fine-tuned ≥ +5 vs Calibration, interval > 0"]
    header += ["cells: fine-tuned ≥ +2 vs its AE", "cells: probe ≥ +5 vs Calibration"]
    header += ["worst cell and label count: fine-tuned vs Calibration"]
    return reports.markdown_table(header, rows)


def rule(table, few):
    """The decision rule: PASS when the interval vs Calibration is above 0 in
    ≥ 2 cells and below 0 in none, and (variants) the mean is above GAN's in
    ≥ 2 cells. Every other method is listed for reference."""
    rows, shipping = [], gans(table)
    for method in ordered({m for by in table.values() for m in by} - {"Calibration"}):
        cal = [paired(by, method, "Calibration", few) for by in table.values()]
        found = [s for s in cal if s is not None]
        above = sum(s.above_zero for s in found)
        below = sum(s.below_zero for s in found)
        gan = [paired(by, method, "GAN", few) for by in table.values()]
        better = sum(g is not None and g.mean > 0 for g in gan)
        passed = above >= 2 and not below and (method == "GAN" or better >= 2)
        verdict = f"{'PASS' if passed else 'fail'}: > 0 in {above}, < 0 in {below}"
        verdict += "" if method == "GAN" else f", above GAN in {better}"
        score = 100 * np.mean([s.mean for s in found]) if found else math.nan
        verdict = verdict if method in shipping else "(reference)"
        rows.append([method, *map(text, cal), f"{score:+.1f}", verdict])
    header = ["method", *table, "mean of the cells", "verdict"]
    return reports.markdown_table(header, rows)


def cell_table(by, k):
    """Probe, fine-tuned (final and early), Δs and seconds of one cell at k."""
    he = [value(r, k, "final") for r in by.get("He", {}).values()]
    rows = []
    for method in ordered(by):
        runs = list(by[method].values())
        ae = autoencoder_of(method)
        vs_ae = text(paired(by, method, ae, [k]))
        rows.append(
            [
                method,
                statistics.mean_sd([value(r, k, "probe") for r in runs]),
                text(paired(by, method, "Calibration", [k], "probe")),
                statistics.mean_sd([value(r, k, "final") for r in runs]),
                text(paired(by, method, "Calibration", [k])),
                vs_ae + (f" ({ae})" if vs_ae and ae != "AE" else ""),
                f"{np.mean([value(r, k, 'early') for r in runs]):.3f}",
                f"{np.mean([r['pretrain_s'] for r in runs]):.1f}",
                seconds_to(runs, k, np.mean(he)) if he else "-",
            ]
        )
    header = ["method", "probe", "Δ probe vs Calibration", "fine-tuned"]
    header += ["Δ vs Calibration", "Δ vs AE", f"@{EARLY} steps", "pretrain s"]
    return reports.markdown_table(header + ["s to He's final"], rows)


def seconds_to(runs, k, target):
    """Mean pretraining + fine-tuning seconds to reach `target` mean accuracy."""
    curves = np.array([r["labels"][str(k)]["accuracy"] for r in runs])
    seconds = np.array([r["labels"][str(k)]["seconds"] for r in runs])
    reached = np.flatnonzero(curves.mean(0) >= target - 1e-9)
    if not len(reached):
        return "never"
    pretrain = np.mean([r["pretrain_s"] for r in runs])
    return f"{pretrain + seconds[:, reached[0]].mean():.1f}"


def plot(table, ks, path, solid=None, order=None):
    """Mean fine-tuned accuracy against labels per class, one panel per cell;
    the `solid` methods (default: the GAN methods) solid, the others dashed,
    in the order `order(methods)` gives (default: the registry's)."""
    size = (4.5 * len(table), 4)
    solid = gans(table) if solid is None else solid
    with reports.figure(path, 1, len(table), figsize=size) as (_, axes):
        for ax, (cell, by) in zip(axes[0], table.items(), strict=False):
            for method in (order or ordered)(by):
                runs = by[method].values()
                mean = [np.mean([value(r, k, "final") for r in runs]) for k in ks]
                style = "-" if method in solid else "--"
                ax.plot(ks, mean, style, marker="o", label=method)
            ax.set(xscale="log", xticks=ks, xticklabels=ks, title=cell)
            ax.set(xlabel="labels per class", ylabel="fine-tuned test accuracy")
        axes[0][-1].legend(fontsize=7)


STUDY = FewLabels()
