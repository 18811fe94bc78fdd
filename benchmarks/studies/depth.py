"""How deep can a plain network go, and from which start?

Plain MLPs ("deepmlp": Dense(64) layers) and CNNs ("gapcnn": Conv1D(16, 3,
same) layers, then global average pooling), no normalization, no skip
connections, on MNIST-1D (`data.mnist1d()`: 4,000 / 1,000, standardized):
MLPs at depths 8-128, CNNs at 8-64, with sigmoid, tanh, ReLU and GELU,
trained for 10 epochs of batch 128 with SGD (0.02, momentum 0.9) or
Adam(1e-3). Each start sets the hidden layers; the head is Glorot-uniform
with a zero bias (`training.Reused`, one compiled classifier per cell).
Recorded: test accuracy after every epoch; training "started" when the
epoch-3 accuracy is at least chance + 0.05 (0.15).

The starts: the registry's He, Glorot, LeCun, Orthogonal, LSUV, AnyInit,
Calibration, Looks-linear and GAN (to depth 32: it costs most), and:

- critical orthogonal: Orthogonal at the gain that puts the backward
  multiplier chi = gain^2 E[phi'(h)^2] at 1 at its fixed point: tanh 1,
  biases N(0, 0.01^2); ReLU and GELU sqrt(2) (GELU has no critical point
  with zero bias); sigmoid, the tanh network 1/2 + tanh(x/2) / 2: gain 2 at
  the first layer, 4 later with biases -1/2 sum_i W_ij (cancelling the mean
  1/2 of their inputs).
- DeltaOrthogonal (CNNs): `keras_ganinit.initializers.DeltaOrthogonal`,
  the same gains and biases.
- Looks-linear, lr x k/depth (SGD): SGD's learning rate times
  min(1, k / depth), since a net that starts as a product of `depth`
  orthogonal maps moves about `depth` times as far per step as one layer.
  A run uses the published rule, k = 16 for MLPs and 8 for CNNs.

The report: epoch-3 accuracy (mean ± sd) and seeds started per depth and
start; the deepest depth each start trains from; the goals set before the
runs (last-epoch accuracy), differences with paired Student-t intervals.
"""

import functools
import itertools
import math
from time import perf_counter

import keras
import numpy as np

from benchmarks import data, methods, networks, reports, statistics, training
from benchmarks.study import Study
from keras_ganinit.initializers import DeltaOrthogonal

START = 0.15  # started: epoch-3 accuracy at least chance (0.10) + 0.05
EPOCHS, BATCH, CHANNELS, GAN_DEPTH = 10, 128, 16, 32
NETWORKS = {"mlp": "deepmlp", "cnn": "gapcnn"}
DEPTHS = {"mlp": (8, 16, 32, 64, 128), "cnn": (8, 16, 32, 64)}
ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")
OPTIMIZERS = {"sgd": (0.02, 0.9), "adam": (1e-3, 0.0)}  # (lr, momentum)
ROOT2 = math.sqrt(2.0)  # the critical gains: (the first layer's, the later ones')
CRITICAL = dict(tanh=(1, 1), sigmoid=(2, 4), relu=(ROOT2,) * 2, gelu=(ROOT2,) * 2)
K16, K8 = "Looks-linear, lr x 16/depth", "Looks-linear, lr x 8/depth"
RULE, SCALE = {"mlp": K16, "cnn": K8}, {K16: 16, K8: 8}  # the published rules


def critical(build, x, seed, budget, delta=False):
    """(Delta-)orthogonal kernels at the critical gains, their biases."""
    keras.utils.set_random_seed(seed)
    model = build(keras.initializers.Orthogonal)
    rng = np.random.default_rng(seed + 12345)
    make = DeltaOrthogonal if delta else keras.initializers.Orthogonal
    layers = [layer for layer in model.layers if hasattr(layer, "kernel")]
    for i, layer in enumerate(layers):
        name = layer.activation.__name__
        draw = make(gain=CRITICAL[name][min(i, 1)], seed=seed * 1000 + i)
        kernel = keras.ops.convert_to_numpy(draw(layer.kernel.shape))
        bias = np.zeros(layer.bias.shape)
        if name == "tanh":
            bias = rng.normal(0.0, 0.01, bias.shape)
        elif name == "sigmoid" and i:
            bias = -0.5 * kernel.reshape(-1, kernel.shape[-1]).sum(0)
        layer.set_weights([kernel, bias.astype("float32")])
    return model


VARIANTS = {
    "critical orthogonal": methods.Method(functools.partial(critical), "baseline"),
    "DeltaOrthogonal": methods.Method(functools.partial(critical, delta=True)),
    **{name: methods.METHODS["Looks-linear"] for name in SCALE},
}
ALL = {**methods.METHODS, **VARIANTS}
PEERS = ("He", "Glorot", "LeCun", "Orthogonal", "critical orthogonal")
PEERS += ("DeltaOrthogonal", "LSUV", "AnyInit")
ORDER = (*PEERS, "Calibration", "Looks-linear", K16, K8, "GAN")
STORED = ("layer-wise + Calibration", "Calibration, chi=1 target")
STORED += ("Calibration, SGD lr / 4",)  # recorded runs of dropped variants
PACKAGES = {  # goal 3: the package's best start against the best peer
    "Calibration or layer-wise": ("Calibration", STORED[0]),
    "with the fixes too": ("Calibration", *STORED),
    f"Calibration or {K16}": ("Calibration", K16),
}
PAIRS = ((K16, "Looks-linear", 16), (K8, K16, 8), (STORED[0], "Calibration", 0))
QUICK = ("He", "Calibration", "Looks-linear")


def wanted(method, network, optimizer, depth):
    return not (
        (method == "DeltaOrthogonal" and network != "cnn")
        or (method == "GAN" and depth > GAN_DEPTH)
        or (method in SCALE and (optimizer != "sgd" or RULE[network] != method))
    )


def rank(method):
    return (ORDER + STORED).index(method) if method in ORDER + STORED else 99


def place(key):
    """The report's order: MLP first, SGD first, the activations in order."""
    n, o, a, *rest = key
    return n != "MLP", n, o != "sgd", ACTIVATIONS.index(a), *rest


def at(run, epoch):
    """Test accuracy after `epoch` (1-based; the last if fewer were run)."""
    return run["accuracy"][min(epoch, len(run["accuracy"])) - 1]


def mean_last(runs):
    return float(np.mean([r["accuracy"][-1] for r in runs]))


def differences(a, b):
    """a - b in last-epoch accuracy, per seed both ran."""
    first = {r["seed"]: r["accuracy"][-1] for r in a}
    return [first[r["seed"]] - r["accuracy"][-1] for r in b if r["seed"] in first]


def best(by, key, names):
    """The start of `names` with the best mean last-epoch accuracy at `key`."""
    present = [m for m in names if by.get((*key, m))]
    return max(present, key=lambda m: mean_last(by[(*key, m)])) if present else None


class Depth(Study):
    name = "depth"
    title = "Depth: plain deep networks from every start"
    seeds = (0, 1, 2)
    cell = reused = build = None

    def add_arguments(self, parser):
        options = dict(networks=NETWORKS, optimizers=OPTIMIZERS)
        for option, choices in dict(options, activations=ACTIVATIONS).items():
            parser.add_argument(f"--{option}", nargs="+", choices=list(choices))
        parser.add_argument("--depths", nargs="+", type=int)
        parser.add_argument("--methods", nargs="+", choices=ORDER)

    def describe(self, args):
        return dict(epochs=2 if args.quick else EPOCHS, batch=BATCH, channels=CHANNELS)

    def plan(self, args):
        cells = [("mlp", "adam", 8, "relu")] if args.quick else [
            (n, o, d, a) for n in args.networks or NETWORKS
            for o in args.optimizers or OPTIMIZERS for d in DEPTHS[n]
            if d in (args.depths or DEPTHS[n]) for a in args.activations or ACTIVATIONS
        ]  # fmt: skip
        return [
            dict(network=n, **({"channels": CHANNELS} if n == "cnn" else {}),
                 depth=d, activation=a, optimizer=o, method=m, seed=s)
            for n, o, d, a in cells
            for m in (QUICK if args.quick else args.methods or ORDER)
            if wanted(m, n, o, d) for s in args.seeds
        ]  # fmt: skip

    def run_one(self, args, network, depth, activation, optimizer, method, seed,
                channels=None):  # fmt: skip
        split = data.mnist1d()
        if self.cell != (network, depth, activation, optimizer):
            keras.backend.clear_session()
            self.cell = (network, depth, activation, optimizer)
            self.build = functools.partial(
                networks.extractor, NETWORKS[network], split.shape, activation,
                depth=depth,
            )  # fmt: skip
            made = training.optimizer(optimizer, *OPTIMIZERS[optimizer])
            self.reused = training.Reused(self.build(), split.classes, made)
        start = perf_counter()
        budget = methods.Budget.of(args.quick)
        model = ALL[method].run(self.build, split.x_train, seed, budget)
        setup = perf_counter() - start
        lr = OPTIMIZERS[optimizer][0] * min(1.0, SCALE.get(method, depth) / depth)
        for i, variable in enumerate(self.reused.model.optimizer.variables):
            if variable.path.endswith("learning_rate"):  # as Reused resets it
                self.reused.fresh[i] = np.asarray(lr, self.reused.fresh[i].dtype)
        curve = self.reused.train(
            model.get_weights(), split, seed, batch_size=BATCH,
            epochs=2 if args.quick else EPOCHS,
        )  # fmt: skip
        loss = [v if math.isfinite(v) else None for v in curve.loss]
        return dict(lr=lr, accuracy=curve.accuracy, loss=loss, setup_s=setup,
                    diverged=curve.diverged, fit_s=curve.seconds[-1])  # fmt: skip

    def report(self, meta, runs, out):
        by = {}
        for r in sorted(runs, key=lambda r: r["seed"]):
            n = "MLP" if r["network"] == "mlp" else f"CNN, {r['channels']} channels"
            key = (n, r["optimizer"], r["activation"], r["depth"], r["method"])
            by.setdefault(key, []).extend([r] if "failed" not in r else [])
        panels = sorted({k[:3] for k in by}, key=place)
        lines = reports.header(self.title, meta, self.question)
        lines += [meta["note"], ""] if "note" in meta else []
        lines += reports.failures(runs) + [
            "### Epoch-3 accuracy, and seeds started, by depth", "",
            "Epoch-3 test accuracy, mean ± sd over seeds (ddof=1), and (seeds "
            f"started / seeds run): started = epoch-3 accuracy >= {START:.2f}; "
            "'div': a seed's loss diverged. Intervals below are paired by "
            "seed, Student-t 95%.",
        ]  # fmt: skip
        for panel in panels:
            depths = sorted({k[3] for k in by if k[:3] == panel})
            names = sorted({k[4] for k in by if k[:3] == panel}, key=rank)
            rows = [[m, *(cell(by.get((*panel, d, m))) for d in depths)] for m in names]
            lines += ["", f"#### {panel[0]}, {panel[2]}, {panel[1].upper()}", ""]
            lines.append(reports.markdown_table(["start", *map(str, depths)], rows))
        lines += deepest_table(by, panels) + goal_one(by, panels)
        lines += goal_three(by) + comparisons(by)
        plot(by, panels, f"{out}/epoch3-by-depth.png")
        return "\n".join(lines)


def cell(runs):
    if not runs:
        return "-" if runs is None else "failed"
    count = f"({sum(at(r, 3) >= START for r in runs)}/{len(runs)})"
    div = " div" if any(r["diverged"] for r in runs) else ""
    return f"{statistics.mean_sd([at(r, 3) for r in runs])} {count}{div}"


def deepest(by, panel, method):
    """The deepest depth from which every seed started, at every depth up
    to it; '+': not run deeper; 'none': not at the shallowest."""
    depths = sorted(k[3] for k in by if k[:3] == panel and k[4] == method)
    reached = "none"
    for depth in depths:
        runs = by[(*panel, depth, method)]
        if not runs or not all(at(r, 3) >= START for r in runs):
            return str(reached)
        reached = depth
    most = max(k[3] for k in by if k[:3] == panel)
    return f"{reached}{'+' if reached != most else ''}" if depths else "-"


def deepest_table(by, panels):
    names = sorted({k[4] for k in by if k[4] in ORDER}, key=rank)
    rows = [[*p, *(deepest(by, p, m) for m in names)] for p in panels]
    return [
        "", "### The deepest start", "",
        "The deepest depth from which every seed started training, at every "
        "depth up to it ('none': not even at the shallowest; '+': started "
        "at every depth it was run at, but was not run deeper).", "",
        reports.markdown_table(["network", "optimizer", "activation", *names], rows),
    ]  # fmt: skip


def goal_one(by, panels):
    """SGD, every depth at >= 90% (sigmoid 75%) of the best depth-8 start."""
    names = [m for m in ("Calibration", K16, K8) if any(k[4] == m for k in by)]
    rows, met = [], {m: [] for m in names}
    for panel in (p for p in panels if p[1] == "sgd"):
        eight = [mean_last(v) for k, v in by.items() if k[:4] == (*panel, 8) and v]
        need = 0.75 if panel[2] == "sigmoid" else 0.9
        depths = sorted({k[3] for k in by if k[:3] == panel and k[3] > 8})
        for depth in depths if eight else []:
            row = [panel[0], panel[2], depth, f"{max(eight):.3f}", f"{need:.2f}"]
            for m in names:
                runs = by.get((*panel, depth, m))
                ratio = mean_last(runs) / max(eight) if runs else None
                met[m] += [ratio >= need] if runs else []
                no = "" if not runs or ratio >= need else " **no**"
                row.append(f"{mean_last(runs):.3f} ({ratio:.2f}){no}" if runs else "-")
            rows.append(row)
    header = ["network", "activation", "depth", "best at depth 8", "needed", *names]
    return [
        "", "### Goal 1: accuracy held at depth (SGD)", "",
        "Last-epoch accuracy (mean over seeds) and its ratio to the best "
        "start's at depth 8 of the same network and activation; needed at "
        "every depth: 0.90 (sigmoid 0.75).", "",
        reports.markdown_table(header, rows), "",
        *(f"- {m}: met in {sum(met[m])}/{len(met[m])} cells." for m in names),
    ] if rows else []  # fmt: skip


def goal_three(by):
    """At depth >= 32 the package's best start at or above the best peer's."""
    rows, tally = [], {label: np.zeros(4, int) for label in PACKAGES}
    for key in sorted({k[:4] for k in by if k[3] >= 32}, key=place):
        if not (peer := best(by, key, PEERS)):
            continue
        theirs = by[(*key, peer)]
        row = [*key, f"{peer} {mean_last(theirs):.3f}"]
        for label, package in PACKAGES.items():
            ours = best(by, key, package)
            if not ours:
                row.append("-")
                continue
            gap = statistics.paired(differences(by[(*key, ours)], theirs))
            tally[label] += (1, gap.mean >= 0, gap.above_zero, gap.below_zero)
            row.append(f"{ours}: {gap.points()}")
        rows.append(row)
    header = ["network", "optimizer", "activation", "depth", "best peer", *PACKAGES]
    lines = [
        "", "### Goal 3: at or above the best peer from depth 32", "",
        "Peers: " + ", ".join(PEERS) + ". Per cell, the best start of each "
        "set (by mean) minus the best peer, last-epoch accuracy in points, "
        "paired by seed with its 95% t interval; needed: at or above in 80% "
        "of the cells.", "",
        reports.markdown_table(header, rows), "",
    ]  # fmt: skip
    for label, (total, level, above, below) in tally.items():
        verdict = "met" if level >= 0.8 * total else "not met"
        lines += [
            f"- {label}: at or above the best peer's mean in {level}/{total} cells "
            f"({100 * level / max(total, 1):.0f}%: {verdict}); the interval is "
            f"above zero in {above}, below zero in {below}."
        ] if total else []  # fmt: skip
    return lines if rows else []


def comparisons(by):
    """Each pair's (a, b, above depth) difference per cell, and pooled."""
    lines = ["", "### Paired differences, last epoch (points, 95% t interval)"]
    for a, b, above in PAIRS:
        rows, pooled = [], []
        for key in sorted({k[:4] for k in by if k[3] > above}, key=place):
            if by.get((*key, a)) and by.get((*key, b)):
                gaps = differences(by[(*key, a)], by[(*key, b)])
                pooled, gap = pooled + gaps, statistics.paired(gaps)
                means = [f"{mean_last(by[(*key, m)]):.3f}" for m in (a, b)]
                rows.append([*key, *means, gap.points()])
        if rows:
            rows.append(["every cell", *[""] * 5, statistics.paired(pooled).points()])
            header = ["network", "optimizer", "activation", "depth", a, b, "a - b"]
            table = reports.markdown_table(header, rows)
            lines += ["", f"#### {a} minus {b}", "", table]
    return lines if len(lines) > 2 else []


def plot(by, panels, path):
    """Epoch-3 accuracy against depth, a line per start, a panel per cell."""
    import matplotlib

    rows = list(dict.fromkeys(p[:2] for p in panels))
    columns = [a for a in ACTIVATIONS if any(p[2] == a for p in panels)]
    colours = matplotlib.colormaps["tab20"]
    size = (3 * len(columns) + 3, 2.8 * len(rows))
    grid = itertools.product(enumerate(rows), enumerate(columns))
    shape = (len(rows), len(columns) + 1)
    with reports.figure(path, *shape, figsize=size) as (_, axes):
        for (i, (n, o)), (j, a) in grid:
            ax, curves = axes[i][j], {}
            for k in sorted(k for k in by if k[:3] == (n, o, a) and by[k]):
                mean = np.mean([at(r, 3) for r in by[k]])
                curves.setdefault(k[4], []).append((k[3], mean))
            if not curves:
                ax.set_axis_off()
                continue
            ax.set_xscale("log", base=2)
            for m in sorted(curves, key=rank):
                style = "--" if m in PEERS else "-"
                ax.plot(*zip(*curves[m], strict=True), style, marker="o", ms=3,
                        color=colours(rank(m) % 20), label=m)  # fmt: skip
            ax.axhline(START, color="grey", linestyle=":", lw=0.8)
            ax.set(title=f"{n}, {a}, {o.upper()}", xlabel="depth", ylim=(0, 1),
                   ylabel="epoch-3 test accuracy", xticks=DEPTHS["mlp"])  # fmt: skip
            ax.set_xticklabels(map(str, DEPTHS["mlp"]), minor=False)
            ax.minorticks_off()
        labelled = {}
        for ax in axes.flat:
            labelled.update(zip(*ax.get_legend_handles_labels()[::-1], strict=True))
        for ax in axes[:, -1]:
            ax.set_axis_off()
        names = sorted(labelled, key=rank)
        axes[0][-1].legend([labelled[m] for m in names], names, loc="upper left")


STUDY = Depth()
