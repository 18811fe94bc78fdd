"""Which pretraining recipe should sequence extractors get?

Each method initializes the cell's extractor from an unlabelled pool once
per seed; then, for each count of labels per class (drawn per seed from a
labelled pool), a linear probe on the frozen features and the extractor
fine-tuned with a softmax head (Adam(1e-3), batches of min(32, labels),
tested after 10, 25, 50, 100, 200, 500 and 1,000 steps (the selection's
runs stopped at 200); quick: 5, 25), as in few_labels.
Pools: 10,000 unlabelled / 4,000 labelled / 2,000 test, 1, 10, 40 labels per
class (quick: 1,000 / 500 / 300, 10). Cells:

- signals-lstm: `data.mnist1d` as 40 steps of one feature, LSTM(64);
- rows-gru: `data.shapes16` read row by row (16 steps of 16 pixels), GRU(64);
- tokens-transformer: `data.markov_tokens` (8 classes of 32-token Markov
  chains), Embedding(32, 32) - causal Conv1D(32, 3, relu) - one post-LN
  block with causal attention (4 heads, key_dim 8) - average pooling.

Methods, all but Keras default from the same Glorot-uniform start:
Calibration (`calibrate`, 512 samples); Autoencoder, GAN and Next step:
`GanInitModel` recipes "autoencoder", "default" and "next_step" (on the
extractor built to return its per-step sequence, its weights handed to the
pooled one by name with `with_pretrained_initializers`), `--steps` batches
of `--batch` (600 of 64; quick: 20 of 32), each ending in calibration;
the variants "..., as trained" (`--methods`) skip that calibration. A
seed gives every method the same labels, head and batch order: paired.
"""

import functools
import itertools
import math
import os
import time

import keras
import numpy as np
from keras import initializers, layers

import keras_ganinit
from benchmarks import data, methods, reports, statistics, training
from benchmarks.studies.few_labels import (
    draw,
    paired,
    plot,
    sections,
    text,
    value,
)
from benchmarks.studies.sequences import Selection, kernel
from benchmarks.study import Study

SIZES = {False: (10_000, 4_000, 2_000), True: (1_000, 500, 300)}  # by --quick
LABELS = {False: (1, 10, 40), True: (10,)}
# Fine-tuning checkpoints. The selection ran to 200 steps and found every
# start near chance at <= 10 labels per class; the confirmation runs to 1,000.
CHECKPOINTS = {False: (10, 25, 50, 100, 200, 500, 1000), True: (5, 25)}
BUDGET = {False: (600, 64), True: (20, 32)}  # pretraining steps, batch
EARLY, FEW, BEHIND = 25, 10, 2.0  # FEW: the goals' label counts are <= FEW
SELECTION_END = 200  # the selection's last fine-tuning step, shown beside
GAN, CAL, AE = "GAN", "Calibration", "Autoencoder"
PRETRAINED = (AE, "Next step", GAN)
QUICK = (CAL, *PRETRAINED)
RULE = (
    "A recipe other than the GAN becomes GanInitModel's default for sequence "
    "extractors only if it beats the GAN by >= 2 points fine-tuned (per seed "
    "averaged over <= 10 labels per class) with the paired 95% interval above 0 "
    "in at least 2 of the 3 cells; otherwise the GAN stays the default and the "
    "winner is named as the recipe to use."
)


def recurrent(cell, steps, width, make, sequences=False):
    """One recurrent layer of 64 on (steps, width) sequences."""
    inputs = keras.Input((steps, width))
    rnn = getattr(layers, cell.upper())
    h = rnn(64, name=cell, return_sequences=sequences, **kernel(make))(inputs)
    return keras.Model(inputs, h, name="extractor")


def transformer(make, sequences=False):
    """Embedding - causal Conv1D - one post-LN block with causal attention."""
    inputs = keras.Input((32,), dtype="int32")
    h = layers.Embedding(32, 32, name="embedding")(inputs)
    h = layers.Conv1D(32, 3, padding="causal", activation="relu", name="conv",
                      **kernel(make))(h)  # fmt: skip
    attention = layers.MultiHeadAttention(4, 8, name="mha", **kernel(make))
    h = layers.Add()([h, attention(h, h, use_causal_mask=True)])
    h = layers.LayerNormalization(name="ln1")(h)
    wide = layers.Dense(64, activation="gelu", name="ffn_in", **kernel(make))(h)
    h = layers.Add()([h, layers.Dense(32, name="ffn_out", **kernel(make))(wide)])
    h = layers.LayerNormalization(name="ln2")(h)
    h = h if sequences else layers.GlobalAveragePooling1D()(h)
    return keras.Model(inputs, h, name="extractor")


CELLS = {  # build(initializer, sequences=False) -> extractor
    "signals-lstm": functools.partial(recurrent, "lstm", 40, 1),
    "rows-gru": functools.partial(recurrent, "gru", 16, 16),
    "tokens-transformer": transformer,
}


def next_step(build, x, seed, budget, **options):
    """The "next_step" recipe on the sequence extractor, handed over by name."""
    keras.utils.set_random_seed(seed)
    sequence = build(initializers.GlorotUniform, sequences=True)
    gan = keras_ganinit.GanInitModel(sequence, recipe="next_step", seed=seed, **options)
    gan.compile()
    gan.fit(x, steps=budget.steps, batch_size=budget.batch_size, verbose=0)
    start = build(initializers.GlorotUniform)
    model = keras_ganinit.with_pretrained_initializers(start, gan.extractor)
    for mine, theirs in zip(model.weights, gan.extractor.weights, strict=True):
        if not np.array_equal(*map(keras.ops.convert_to_numpy, (mine, theirs))):
            raise ValueError(f"with_pretrained_initializers left {mine.path} as is")
    return model


METHODS = {  # name -> function(build, x, seed, budget) -> extractor
    "Keras default": methods.METHODS["Keras default"].run,
    CAL: methods.METHODS["Calibration"].run,  # Glorot, calibrate(x[:512])
    AE: methods.gan(recipe="autoencoder").run,
    "Next step": next_step,
    GAN: methods.METHODS["GAN"].run,  # GanInitModel(model, seed=seed) as it ships
    # Variants tried once the confirmation had shown no gain: the weights
    # as trained, without fit's closing calibration.
    f"{AE}, as trained": methods.gan(recipe="autoencoder", calibration=False).run,
    "Next step, as trained": functools.partial(next_step, calibration=False),
    f"{GAN}, as trained": methods.gan(calibration=False).run,
}


@functools.cache
def pool(cell, quick):
    """(the unlabelled inputs, a Split of the labelled pool and the test set)."""
    n, m, t = SIZES[quick]
    if cell == "tokens-transformer":
        x, y = data.markov_tokens(n + m + t)
        shape, classes = x.shape[1:], data.MARKOV_CLASSES
    else:  # mnist1d: n + m rows in its 80% part; shapes16: n, then m + t
        split = (data.mnist1d(math.ceil((n + m) / 0.8)) if cell == "signals-lstm"
                 else data.shapes16(n, m + t))  # fmt: skip
        x = np.concatenate([split.x_train, split.x_test])
        y = np.concatenate([split.y_train, split.y_test])
        steps = (40, 1) if cell == "signals-lstm" else (16, 16)
        x, shape, classes = x.reshape(len(x), *steps), steps, split.classes
    a, b = n + m, n + m + t
    assert len(x) >= b, (cell, len(x))
    return x[:n], data.Split(x[n:a], y[n:a], x[a:b], y[a:b], shape, classes)


@functools.cache
def classifier(cell, quick):
    """The cell's compiled classifier, traced on batches of a few and 32."""
    labelled = pool(cell, quick)[1]
    made = training.optimizer("adam")
    reused = training.Reused(CELLS[cell](None), labelled.classes, made)
    for per_class in (1, 4):
        weights = reused.extractor.get_weights()
        warm = draw(labelled, 0, per_class)
        reused.train(weights, warm, 0, checkpoints=[1], batch_size=32)
    return reused


class SequencePretraining(Study):
    name = "sequence_pretraining"
    title = "Sequence pretraining: autoencoder, next step and GAN recipes"
    seeds = (100, 101, 102, 103, 104)

    def add_arguments(self, parser):
        parser.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS))
        parser.add_argument("--methods", nargs="+", choices=METHODS, metavar="METHOD")
        parser.add_argument("--labels", nargs="+", type=int, help="per class")
        parser.add_argument("--steps", type=int, help="pretraining steps (600)")
        parser.add_argument("--batch", type=int, help="pretraining batch (64)")
        parser.add_argument("--selection", nargs=0, action=Selection, default=False,
                            help="seeds 0 1 unless --seeds says")  # fmt: skip

    def describe(self, args):
        args.labels = args.labels or LABELS[args.quick]
        steps, batch = BUDGET[args.quick]
        args.steps, args.batch = args.steps or steps, args.batch or batch
        return dict(
            protocol="selection" if args.selection else "confirmation",
            pools="unlabelled/labelled/test = " + "/".join(map(str, SIZES[args.quick])),
            labels=list(args.labels),
            checkpoints=list(CHECKPOINTS[args.quick]),
            pretraining=f"{args.steps} steps of {args.batch}",
        )

    def plan(self, args):
        chosen = args.methods or (QUICK if args.quick else list(METHODS)[:5])
        keys = itertools.product(args.cells, chosen, args.seeds)
        return [dict(cell=c, method=m, seed=s) for c, m, s in keys]

    def run_one(self, args, cell, method, seed):
        x, labelled = pool(cell, args.quick)
        budget = methods.Budget(steps=args.steps, batch_size=args.batch)
        start = time.perf_counter()
        model = METHODS[method](CELLS[cell], x, seed, budget)
        result = {"pretrain_s": time.perf_counter() - start, "labels": {}}
        weights, reused = model.get_weights(), classifier(cell, args.quick)
        for k in args.labels:
            few = draw(labelled, seed, k)
            test = (few.x_test, few.y_test)
            probe = keras_ganinit.linear_probe(
                model, few.x_train, few.y_train, validation_data=test, seed=seed
            )
            curve = reused.train(
                weights, few, seed, checkpoints=CHECKPOINTS[args.quick], batch_size=32
            )
            result["labels"][str(k)] = {"probe": probe.accuracy, **curve.record()}
        return result

    def report(self, meta, runs, out):
        done, table = [r for r in runs if "failed" not in r], {}
        rank = {name: i for i, name in enumerate([*CELLS, *METHODS])}
        for r in sorted(done, key=lambda r: [(rank.get(r[k], 99), r[k])
                                             for k in ("cell", "method")]):  # fmt: skip
            table.setdefault(r["cell"], {}).setdefault(r["method"], {})[r["seed"]] = r
        labels = [{int(k) for k in r["labels"]} for r in done] or [set()]
        ks = sorted(set.intersection(*labels))  # every run has them
        few = [k for k in ks if k <= FEW] or ks[:1]
        counts = ", ".join(map(str, few))
        lines = reports.header(self.title, meta, self.question)
        lines += [
            f"Pools: {meta.get('pools', '?')}; pretraining: "
            f"{meta.get('pretraining', '?')}. Accuracies: test accuracy, mean ± "
            "sd (ddof=1) over seeds. Δ: paired by seed, in accuracy points, mean "
            "[95% Student-t interval]. Fine-tuned: at the last checkpoint (steps "
            f"{meta.get('checkpoints', '?')}); @{EARLY} steps: mean accuracy "
            "there. 's to Calibration's final': pretraining and fine-tuning "
            "seconds until the mean accuracy reaches Calibration's mean final one.",
            "",
            *reports.failures(runs),
            "",
            f"## Goals, fine-tuned per seed averaged over {counts} labels per class",
            "",
            goals(table, few, ks),
            "",
            "## Decision rule (written before the runs)",
            "",
            RULE,
            "",
            decision(table, few),
        ]
        lines += sections(table, ks, cell_table)
        if table:
            path = os.path.join(out, "sequence_pretraining.png")
            plot(table, ks, path, solid=PRETRAINED, order=list)
        return "\n".join(lines)


def finals(runs, k):
    return [value(r, k, "final") for r in runs]


def reach(runs, k, target):
    """Mean pretraining + fine-tuning seconds until the mean fine-tuned curve
    first reaches `target` (inf: never)."""
    entries = [r["labels"][str(k)] for r in runs]
    hit = np.flatnonzero(np.mean([e["accuracy"] for e in entries], 0) >= target - 1e-9)
    if not hit.size:
        return math.inf
    pretrain = np.mean([r["pretrain_s"] for r in runs])
    return float(pretrain + np.mean([e["seconds"][hit[0]] for e in entries]))


def at_least(interval, gain, above_zero=False):
    """Whether the paired `interval` (None: no shared seeds) gains `gain`."""
    if interval is None:
        return False
    return interval.mean >= gain and (interval.above_zero or not above_zero)


def goals(table, few, ks):
    """Per pretraining method, the cells (for (e), the cell and label pairs)
    that meet each goal."""
    rows = []
    for method in (m for m in PRETRAINED if any(m in by for by in table.values())):
        met, cells, pairs = [0] * 5, 0, 0
        for by in (by for by in table.values() if method in by and CAL in by):
            cal, ae = paired(by, method, CAL, few), paired(by, method, AE, few)
            probe = paired(by, method, CAL, few, "probe")
            ok = [at_least(cal, 0.05, above_zero=True), at_least(ae, 0.02)]
            ok += [at_least(probe, 0.05), True, 0]  # (d) held, (e) pairs met
            ours, theirs = list(by[method].values()), list(by[CAL].values())
            for k in ks:
                target = np.mean(finals(theirs, k))
                spread = np.nan_to_num(statistics.interval(finals(theirs, k)).sd)
                ok[3] &= bool(np.mean(finals(ours, k)) >= target - BEHIND * spread)
                ok[4] += reach(ours, k, target) < reach(theirs, k, target)
            cells, pairs = cells + 1, pairs + len(ks)
            met = [a + b for a, b in zip(met, ok, strict=True)]
        row = [f"{c}/{cells}" for c in met[:4]] + [f"{met[4]}/{pairs}"]
        row[1] = "-" if method == AE else row[1]
        rows.append([method, *row])
    header = ["method", "(a) cells: fine-tuned ≥ +5 vs Calibration, interval > 0"]
    header += ["(b) cells: fine-tuned ≥ +2 vs Autoencoder"]
    header += ["(c) cells: probe ≥ +5 vs Calibration"]
    header += [f"(d) cells: never {BEHIND:g} Calibration sd behind it"]
    header += ["(e) cell and label pairs: Calibration's final reached sooner"]
    return reports.markdown_table(header, rows)


def decision(table, few):
    """The rule applied: each other recipe against the GAN, per cell. The
    winner: the best mean fine-tuned accuracy on the cells every recipe ran."""
    recipes = [m for m in PRETRAINED if any(m in by for by in table.values())]
    common = [by for by in table.values() if all(m in by for m in recipes)]
    rows, passed, means = [], [], {}
    for method in recipes:
        runs = [r for by in common for r in by[method].values()]
        per_seed = [np.mean([value(r, k, "final") for k in few]) for r in runs]
        means[method] = float(np.mean(per_seed)) if runs else math.nan
        if method == GAN:
            continue
        gaps = [paired(by, method, GAN, few) for by in table.values()]
        beats = sum(at_least(g, 0.02, above_zero=True) for g in gaps)
        if beats >= 2:
            passed.append((np.mean([g.mean for g in gaps if g]), method))
        verdict = f"beats the GAN in {beats} of {len(gaps)} cells"
        verdict = f"{'PASS' if beats >= 2 else 'fail'}: {verdict}"
        rows.append([method, *map(text, gaps), f"{means[method]:.3f}", verdict])
    if GAN in means:
        rows.append([GAN, *["-"] * len(table), f"{means[GAN]:.3f}", "(reference)"])
    if passed:
        verdict = f"{max(passed)[1]} becomes the default for sequence extractors."
    elif common and means:
        best = max(means, key=means.get)
        verdict = f"the GAN stays the default; the recipe to use: {best}."
    else:
        verdict = "no cell has every recipe's runs: no winner named."
    header = ["recipe", *(f"Δ vs GAN, {cell}" for cell in table)]
    header += [f"fine-tuned, ≤ {FEW} labels, mean over the {len(common)} cells "
               "every recipe ran", "verdict"]  # fmt: skip
    return reports.markdown_table(header, rows) + f"\n\nVerdict: {verdict}"


def at_step(runs, k, step):
    """The mean fine-tuned accuracy at `step` ("-" where it was not tested)."""
    entries = [r["labels"][str(k)] for r in runs]
    if not all(step in e["checkpoints"] for e in entries):
        return "-"
    return (
        f"{np.mean([e['accuracy'][e['checkpoints'].index(step)] for e in entries]):.3f}"
    )


def seconds_text(seconds):
    return "never" if math.isinf(seconds) else f"{seconds:.1f}"


def cell_table(by, k):
    """Probe, fine-tuned (final and early), Δs and seconds of one cell at k."""
    target = np.mean(finals(by[CAL].values(), k)) if CAL in by else None
    rows = []
    for method, seeds in by.items():
        runs = list(seeds.values())
        reached = "-" if target is None else reach(runs, k, target)
        row = [method, statistics.mean_sd([value(r, k, "probe") for r in runs])]
        row += [text(paired(by, method, CAL, [k], "probe"))]
        row += [statistics.mean_sd(finals(runs, k)), text(paired(by, method, CAL, [k]))]
        row += [text(paired(by, method, AE, [k]))]
        row += [f"{np.mean([value(r, k, 'early') for r in runs]):.3f}"]
        row += [at_step(runs, k, SELECTION_END)]
        row += [f"{np.mean([r['pretrain_s'] for r in runs]):.1f}"]
        rows.append(row + [reached if reached == "-" else seconds_text(reached)])
    header = ["method", "probe", "Δ probe vs Calibration", "fine-tuned"]
    header += ["Δ vs Calibration", "Δ vs Autoencoder", f"@{EARLY} steps"]
    header += [f"@{SELECTION_END} steps"]
    header += ["pretrain s", "s to Calibration's final"]
    return reports.markdown_table(header, rows)


STUDY = SequencePretraining()
