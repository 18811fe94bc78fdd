"""Does calibrate start recurrent, attention and residual networks well?

Cells (network, data, optimizer), each trained 6 epochs in batches of 64:

- Adam(1e-3): "lstm", LSTM(64) on MNIST-1D as 40 steps of one feature
  (`data.mnist1d(4000)`: 3,200 / 800, standardized); "lstm-2", LSTM(64,
  return_sequences) - LSTM(64); "gru-pixels", GRU(64) on the digits pixel by
  pixel (64 steps); "tokens-gru", Embedding(16, 32) - GRU(64) on MNIST-1D
  quantized into 16 equal-frequency bins of its training values;
  "post-ln-6/12/24" (no warmup), Dense(32) per step plus learned positions
  ((40, 32), RandomNormal(0.02)), blocks h = LN(h + MHA(4 heads, key_dim
  8)(h, h)), h = LN(h + Dense(32)(Dense(64, gelu)(h))), average pooling.
- SGD(0.01, momentum 0.9), no normalization: "res-mlp-8/16/32/64", Dense(64)
  on MNIST-1D, then `depth` blocks h = h + Dense(64)(Dense(64, relu)(h));
  "res-cnn-16/32", the same with Conv1D(32, 5, same) on (40, 1) and global
  average pooling.

Starts of the extractor (all but the head): "Keras default" (the layers'
own initializers); He (HeNormal kernels; Embedding keeps its own); LSUV
(Orthogonal, then `lsuv`: it refuses a network without a Dense, Conv or
EinsumDense kernel); AnyInit; Calibration (Keras default, then `calibrate`
on 512 samples); variants: chrono gates (recurrent cells), residual_scale
0.01 and 1.0 (cells with residual merges). `--selection`: every start and
variant, seeds 0 1; by default the peers, Calibration and `--variants`,
seeds 100-102. A seed gives every start the same data, head and batch
order (one compiled classifier per cell), so differences are paired.
"""

import argparse
import collections
import dataclasses
import functools
import math
import time

import keras
import numpy as np
from keras import layers

import keras_ganinit
from benchmarks import data, methods, reports, statistics, training
from benchmarks.study import Study

EPOCHS, BATCH, EARLY, LAST, TOKENS, SIGNALS = 6, 64, 3, math.inf, 16, 4000
QUICK_SAMPLES, SELECTION_SEEDS = 300, [0, 1]
PEERS = ("Keras default", "He", "LSUV", "AnyInit")
REFUSING = ("LSUV", "AnyInit")  # tolerated: they may refuse a network
QUICK_CELLS = ("lstm", "post-ln-6", "res-mlp-8")
QUICK_METHODS = ("Keras default", "Calibration")
DEPTHS = (("res-mlp-64", "res-mlp-8"), ("res-cnn-32", "res-cnn-16"),
          ("post-ln-24", "post-ln-6"))  # fmt: skip
GOAL_SHARE, GOAL_RATIO, BEHIND = 0.8, 0.9, 2.0


def kernel(make):
    """A layer's kernel initializer: `make()`, or its own when None."""
    return {} if make is None else {"kernel_initializer": make()}


class Positions(layers.Layer):
    """Adds a learned (steps, width) table to a sequence."""

    def build(self, shape):
        start = keras.initializers.RandomNormal(stddev=0.02)
        self.table = self.add_weight(shape=shape[1:], initializer=start)

    def call(self, x):
        return x + self.table


def recurrent(make, cell="LSTM", steps=40, stacked=False, tokens=False):
    inputs = keras.Input((steps,))
    steps_of_one = layers.Reshape((steps, 1))
    h = layers.Embedding(TOKENS, 32)(inputs) if tokens else steps_of_one(inputs)
    if stacked:
        h = layers.LSTM(64, return_sequences=True, **kernel(make))(h)
    h = getattr(layers, cell)(64, **kernel(make))(h)
    return keras.Model(inputs, h, name="extractor")


def transformer(make, depth):
    inputs = keras.Input((40,))
    h = layers.Dense(32, **kernel(make))(layers.Reshape((40, 1))(inputs))
    h = Positions()(h)
    for _ in range(depth):
        attention = layers.MultiHeadAttention(4, 8, **kernel(make))
        h = layers.LayerNormalization()(h + attention(h, h))
        wide = layers.Dense(64, "gelu", **kernel(make))(h)
        h = layers.LayerNormalization()(h + layers.Dense(32, **kernel(make))(wide))
    return keras.Model(inputs, layers.GlobalAveragePooling1D()(h), name="extractor")


def residual(make, depth, conv=False):
    def unit(activation=None):
        if conv:
            return layers.Conv1D(32, 5, padding="same", activation=activation,
                                 **kernel(make))  # fmt: skip
        return layers.Dense(64, activation, **kernel(make))

    inputs = keras.Input((40,))
    h = unit()(layers.Reshape((40, 1))(inputs) if conv else inputs)
    for _ in range(depth):
        h = h + unit()(unit("relu")(h))
    h = layers.GlobalAveragePooling1D()(h) if conv else h
    return keras.Model(inputs, h, name="extractor")


ADAM, SGD, RNN, RES = ("adam",), ("sgd", 0.01, 0.9), "recurrent", "residual"
P = functools.partial
Cell = collections.namedtuple("Cell", "build data optimizer family")
CELLS = {  # build(make) -> extractor; data; training.optimizer's; variants'
    "lstm": Cell(P(recurrent), "mnist1d", ADAM, RNN),
    "lstm-2": Cell(P(recurrent, stacked=True), "mnist1d", ADAM, RNN),
    "gru-pixels": Cell(P(recurrent, cell="GRU", steps=64), "digits", ADAM, RNN),
    "tokens-gru": Cell(P(recurrent, cell="GRU", tokens=True), "tokens", ADAM, RNN),
    **{f"post-ln-{d}": Cell(P(transformer, depth=d), "mnist1d", ADAM, RES)
       for d in (6, 12, 24)},
    **{f"res-mlp-{d}": Cell(P(residual, depth=d), "mnist1d", SGD, RES)
       for d in (8, 16, 32, 64)},
    **{f"res-cnn-{d}": Cell(P(residual, depth=d, conv=True), "mnist1d", SGD, RES)
       for d in (16, 32)},
}  # fmt: skip


@functools.cache
def sequences(name):
    """The cell's data: MNIST-1D, the digits or MNIST-1D's token ids."""
    if name == "digits":
        return dataclasses.replace(data.digits(), shape=(64, 1))
    signals = data.mnist1d(SIGNALS)
    if name == "mnist1d":
        return signals
    edges = np.quantile(signals.x_train, np.linspace(0, 1, TOKENS + 1)[1:-1])
    x, x_test = (np.digitize(v, edges).astype("float32")
                 for v in (signals.x_train, signals.x_test))  # fmt: skip
    return dataclasses.replace(signals, x_train=x, x_test=x_test, shape=(40,))


def calibrated(build, x, seed, budget, **options):
    """The layers' own initializers, then `keras_ganinit.calibrate(**options)`."""
    model = methods.METHODS["Keras default"].run(build, x, seed, budget)
    keras_ganinit.calibrate(model, x[: methods.SAMPLES], **options)
    return model


VARIANTS = {"Calibration, chrono": (RNN, {"chrono": True}),  # (cells, options)
            "Calibration, residual 0.01": (RES, {"residual_scale": 0.01}),
            "Calibration, residual 1.0": (RES, {"residual_scale": 1.0})}  # fmt: skip
ARMS = {m: methods.METHODS[m] for m in PEERS}
ARMS["Calibration"] = methods.Method(P(calibrated), "package")
ARMS.update({v: methods.Method(P(calibrated, **o)) for v, (_, o) in VARIANTS.items()})


class Selection(argparse.Action):
    """--selection: the variants too, on seeds 0 1 unless --seeds says."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.selection = True
        namespace.seeds = namespace.seeds or [SELECTION_SEEDS]


class Sequences(Study):
    name = "sequences"
    title = "Sequences: recurrent, attention and residual networks"
    seeds = (100, 101, 102)
    cell = reused = None

    def add_arguments(self, parser):
        parser.add_argument("--selection", nargs=0, action=Selection, default=False,
                            help="every start and variant, seeds 0 1")  # fmt: skip
        parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=[])
        parser.add_argument("--cells", nargs="+", choices=CELLS)
        parser.add_argument("--methods", nargs="+", choices=ARMS, metavar="METHOD")

    def describe(self, args):
        protocol = "selection" if args.selection else "confirmation"
        return dict(protocol=protocol, epochs=1 if args.quick else EPOCHS, batch=BATCH)

    def plan(self, args):
        cells = QUICK_CELLS if args.quick else args.cells or CELLS
        variants = VARIANTS if args.selection else args.variants
        names = [*PEERS, "Calibration", *variants]
        names = QUICK_METHODS if args.quick else args.methods or names
        return [dict(cell=c, method=m, seed=s) for c in cells for m in names
                if VARIANTS.get(m, [CELLS[c].family])[0] == CELLS[c].family
                for s in args.seeds]  # fmt: skip

    def run_one(self, args, cell, method, seed):
        spec, epochs = CELLS[cell], 1 if args.quick else EPOCHS
        split = sequences(spec.data).head(QUICK_SAMPLES if args.quick else None)
        if self.cell != cell:  # one compiled classifier per cell, traced here
            keras.backend.clear_session()
            made, self.cell = training.optimizer(*spec.optimizer), cell
            self.reused = training.Reused(spec.build(None), split.classes, made)
            warm = split.head(BATCH + len(split.x_train) % BATCH)  # both shapes
            self.reused.train(self.reused.extractor.get_weights(), warm, 0, epochs=1)
        start, budget = time.perf_counter(), methods.Budget.of(args.quick)
        model = ARMS[method].run(spec.build, split.x_train, seed, budget)
        setup = time.perf_counter() - start
        curve = self.reused.train(model.get_weights(), split, seed, epochs=epochs)
        loss = [v if math.isfinite(v) else None for v in curve.loss]
        return dict(accuracy=curve.accuracy, loss=loss, diverged=curve.diverged,
                    setup_s=setup, fit_s=curve.seconds)  # fmt: skip

    def tolerated(self, run):
        return run["method"] in REFUSING

    def report(self, meta, runs, out):
        by, refused = {}, {}
        for r in sorted(runs, key=lambda r: (order(r["cell"], CELLS), r["seed"])):
            if "failed" in r and self.tolerated(r):
                refused.setdefault((r["method"], r["failed"]), {})[r["cell"]] = 1
            by.setdefault(r["cell"], {}).setdefault(r["method"], [])
            by[r["cell"]][r["method"]] += [] if "failed" in r else [r]
        by = {c: {m: by[c][m] for m in sorted(by[c], key=order)} for c in by}
        lines = reports.header(self.title, meta, self.question)
        lines += [f"- {m} refused {', '.join(cells)}: {why}"
                  for (m, why), cells in refused.items()]  # fmt: skip
        lines += reports.failures([r for r in runs if not self.tolerated(r)])
        return "\n".join(lines + accuracy(by) + differences(by) + goals(by))


def order(name, names=ARMS):
    return (list(names).index(name), name) if name in names else (len(names), name)


def at(run, epoch):
    """Test accuracy after `epoch` (1-based; the last if fewer were run)."""
    return run["accuracy"][int(min(epoch, len(run["accuracy"]))) - 1]


def mean_at(runs, epoch):
    return float(np.mean([at(r, epoch) for r in runs]))


def time_to(runs, target):
    """Mean fit seconds at the first epoch whose mean accuracy reaches target."""
    reached = np.flatnonzero(np.mean([r["accuracy"] for r in runs], 0) >= target)
    if not len(reached):
        return "never"
    e = reached[0]
    return f"{np.mean([r['fit_s'][e] for r in runs]):.1f} (epoch {e + 1})"


def accuracy(by):
    rows = []
    for cell, arms in by.items():
        best = max((mean_at(rs, LAST) for rs in arms.values() if rs), default=0)
        for method, rs in arms.items():
            if not rs:
                why = "refused" if method in REFUSING else "failed"
                rows.append([cell, method, *[why] * 3, "-", "-"])
                continue
            each = ([at(r, e) for r in rs] for e in (EARLY, LAST))
            rows.append([cell, method, *map(statistics.mean_sd, each),
                         f"{sum(r['diverged'] for r in rs)}/{len(rs)}",
                         f"{np.mean([r['setup_s'] for r in rs]):.2f}",
                         time_to(rs, 0.9 * best - 1e-9)])  # fmt: skip
    return [
        "", "### Test accuracy and seconds", "",
        f"Accuracy at epoch {EARLY} (the last, if fewer) and the last epoch, "
        "mean ± sd over seeds (ddof=1); diverged: seeds whose loss was not "
        "finite or grew 100-fold; start s: the start's own seconds; fit s: "
        "fit seconds (tracing done before the cell's first run) until the mean "
        "accuracy first reaches 90% of the cell's best final mean.", "",
        reports.markdown_table(["cell", "method", f"epoch {EARLY}", "last epoch",
                                "diverged", "start s", "fit s to 90%"], rows),
    ]  # fmt: skip


def paired(a, b, epoch):
    """The Interval of a - b at `epoch` on the seeds both ran (None: none)."""
    second = {r["seed"]: at(r, epoch) for r in b}
    diffs = [at(r, epoch) - second[r["seed"]] for r in a if r["seed"] in second]
    return statistics.paired(diffs) if diffs else None


def differences(by):
    rows = [
        [cell, m, len(rs), *(paired(arms["Calibration"], rs, e).points()
                             for e in (EARLY, LAST))]
        for cell, arms in by.items() for m, rs in arms.items()
        if m != "Calibration" and arms.get("Calibration") and paired(
            arms["Calibration"], rs, LAST)
    ]  # fmt: skip
    return [
        "", "### Calibration minus each start, paired by seed", "",
        "Accuracy points, mean [95% Student-t interval] over the seeds both "
        "ran.", "", reports.markdown_table(
            ["cell", "other start", "seeds", f"epoch {EARLY}", "last epoch"], rows),
    ] if rows else []  # fmt: skip


def goals(by):
    """Calibration against the peers per cell, and accuracy held with depth."""
    ahead, cells, behind, rows = 0, 0, [], []
    for cell, arms in by.items():
        ours, peers = arms.get("Calibration"), [p for p in PEERS if arms.get(p)]
        if ours and peers:
            cells += 1
            ahead += all(mean_at(ours, EARLY) >= mean_at(arms[p], EARLY) for p in peers)
        for p in peers if ours else ():
            gap = paired(ours, arms[p], LAST)
            if gap and gap.n > 1 and -gap.mean > BEHIND * gap.sd:
                behind.append(f"{cell} (vs {p}: {gap.points()})")
    for deep, shallow in DEPTHS:
        a, b = by.get(deep, {}), by.get(shallow, {})
        for m in sorted((m for m in a if a[m] and b.get(m)), key=order):
            ratio = mean_at(a[m], LAST) / mean_at(b[m], LAST)
            goal = (m, deep) == ("Calibration", "res-mlp-64")
            met = (" (met)" if ratio >= GOAL_RATIO else " (not met)") if goal else ""
            rows.append([f"{deep} / {shallow}", m, f"{ratio:.2f}{met}"])
    share = ahead / max(cells, 1)
    return [
        "", "### Goals", "",
        f"- Calibration's epoch-{EARLY} mean at or above every peer's "
        f"({', '.join(PEERS)}, where they ran): {ahead}/{cells} cells "
        f"({100 * share:.0f}%; goal {100 * GOAL_SHARE:.0f}%: "
        f"{'met' if share >= GOAL_SHARE else 'not met'}).",
        f"- Cells where Calibration's last-epoch accuracy is more than {BEHIND:g} "
        "sd (of the paired differences) behind a peer: "
        + ("; ".join(behind) or "none") + ".",
    ] + (["", "Depth: last-epoch mean accuracy of the deepest cell over the "
          f"shallowest; goal for Calibration at res-mlp-64 / res-mlp-8: >= "
          f"{GOAL_RATIO}.", "", reports.markdown_table(["cells", "method",
          "ratio"], rows)] if rows else [])  # fmt: skip


STUDY = Sequences()
