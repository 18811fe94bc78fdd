"""Depth: plain deep networks that shape-only initializers cannot train.

Plain MLPs (Dense, width 64) and plain CNNs (Conv1D, 'same' padding, kernel
3, then global average pooling and a softmax head), with no normalization and
no skip connections, are trained on MNIST-1D (the standard 4,000 / 1,000
split, generated offline with the `mnist1d` package, standardized with the
training set's per-feature mean and std) from every initializer, at
increasing depth, with sigmoid, tanh, ReLU and GELU. Reported: test accuracy
at epochs 1, 3 and the last (10 epochs of batch 128), whether training
started at all (epoch-3 accuracy at least 5 points above chance, 0.15), the
seconds each method takes to set up, and the seconds `keras_ganinit.calibrate`
takes on a 128-layer MLP and a 64-layer CNN.

Every method sets the hidden layers (the "extractor": the Dense or Conv1D
stack); the head is Glorot-uniform with a zero bias for every method, and the
data-dependent methods (LSUV, AnyInit, `calibrate`) see the first 512
training inputs and leave the head as it is. The methods, by name (`METHODS`):

- He, Glorot, LeCun, Orthogonal: Keras's HeNormal, GlorotUniform,
  LecunNormal and Orthogonal(gain=1), zero biases.
- critical orthogonal (mean field): Orthogonal with the gain that makes the
  activation's backward multiplier chi = gain^2 E[phi'(h)^2] equal to 1 at
  its fixed point: tanh gain 1 and biases N(0, 0.01^2); ReLU gain sqrt(2);
  GELU gain sqrt(2) (ReLU's: GELU has no critical point with zero bias, see
  CRITICAL); sigmoid, as the tanh network it is (sigmoid(x) = 1/2 + tanh(x/2)
  / 2): the first layer gain 2 with zero bias (its inputs are standardized,
  mean 0), every later layer gain 4 with bias b_j = -1/2 sum_i W_ij, which
  cancels the mean 1/2 of the sigmoid outputs it receives, so that every
  pre-activation has mean 0 at any input.
- DeltaOrthogonal (CNNs): `keras_ganinit.initializers.DeltaOrthogonal` with
  the same gains and biases (the bias sums over taps and input channels).
- LSUV: Orthogonal, then `keras_ganinit.lsuv(extractor, x[:512])`.
- AnyInit: Orthogonal placeholders, then `anyinit.initialize(extractor,
  "empirical", input_spec=x[:512], seed=seed)`.
- calibrate: Orthogonal placeholders, then `keras_ganinit.calibrate(extractor,
  x[:512])` (head excluded: it is not in the extractor).
- GAN init: Glorot, then `GanInitModel(extractor, seed=seed)`, `.compile()`,
  `.fit(x_train)`: 200 steps, then its calibration, as it ships.
- layer-wise + calibrate (MLPs): a greedy layer-wise GAN pretraining
  prototype: Orthogonal, `calibrate`, then the extractor split into 4 blocks
  of depth / 4 layers; for block i, `keras.Sequential` of blocks 0..i with
  blocks 0..i-1 frozen, pretrained with `GanInitModel(sub, calibration=False)`
  for 50 steps (4 x 50 = the GAN's 200); then all unfrozen and
  `calibrate(extractor, x[:512])` again.
- looks-linear: Orthogonal placeholders, then `keras_ganinit.calibrate(
  extractor, x[:512], looks_linear=True, seed=seed)`: every ReLU/GELU layer
  gets a LooksLinear kernel (mirrored pairs [z, -z], so the network starts
  as a deep linear orthogonal map; Balduzzi et al. 2017), then the same
  centred unit-variance pass. Sigmoid and tanh layers cannot mirror: for
  them it is `calibrate`. Run with SGD's learning rate as it is, and times
  min(1, 16 / depth) and min(1, 8 / depth) (LL_RULES: a net of depth L that
  starts linear moves about L times as far per step as one layer). Which
  rule to recommend was decided with `--select-ll-lr` on seed 100 before
  the grid ran on seeds 0 and 1 (the rule is in that function's docstring);
  for CNNs, k = 8 was then preferred by a rule written before fresh seeds 2
  and 3 ran (docs/benchmarks/depth/cnn_lr_rule.md; results in
  docs/benchmarks/depth_cnn_lr/).
- Fixes for where calibrate fails (see FIXES): "calibrate, chi=1 target"
  (`calibrate(..., target_std=callable)` with the target per activation that
  puts the backward multiplier chi near 1) and "calibrate, SGD lr / 4".

The recorded run (docs/benchmarks/depth/, JAX backend, 2 CPU cores shared
with another benchmark, about 75 minutes) was shrunk to fit: CNNs have 8
channels (16 and 32 cost 2x and 4x); one seed below depth 32, seeds 0 and 1
from 32 on; LeCun and Orthogonal only on MLPs up to depth 32; GAN init up to
depth 32 (MLP) and 8 (CNN); layer-wise at depth 32 only; Adam on MLPs at
depths 32 and 128 with tanh and ReLU and 6 methods; the fixes from depth 32.

SGD (momentum 0.9) uses one learning rate per network type, picked with
`--select-lr` on a selection seed (SGD_LR); Adam uses 1e-3.

    python benchmarks/depth.py --quick --out /tmp/d     # smoke run, < 1 min (CI)
    python benchmarks/depth.py --backend jax --out docs/benchmarks/depth
    python benchmarks/depth.py --networks mlp --depths 32 128 --optimizers adam
    python benchmarks/depth.py --select-lr --out /tmp/lr  # the SGD lr selection
    python benchmarks/depth.py --report --out docs/benchmarks/depth

Runs are appended to `--out`/results.json as they finish, and runs already
there are skipped, so a stopped run resumes and separate runs (one network or
optimizer each) share one folder; `--report` only rewrites the report
(depth.md, runs.md and one PNG per activation: accuracy against depth, one
line per method) from results.json.
"""

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os
import platform  # noqa: E402
import time  # noqa: E402

import _backend  # noqa: F401 (sets KERAS_BACKEND from --backend)
import keras  # noqa: E402
import numpy as np  # noqa: E402
from _tables import markdown_table, mean_std  # noqa: E402

import keras_ganinit  # noqa: E402

CHANCE = 0.1
STARTED_MARGIN = 0.05  # epoch-3 accuracy this far above chance: training started
WIDTH, CHANNELS, KERNEL = 64, 8, 3
EPOCHS, BATCH = 10, 128
SAMPLES = 512  # what the data-dependent methods see
# SGD's learning rate per network type, from `--select-lr` (seed 100; He and
# calibrate; ReLU and tanh; MLP depths 8 and 32, CNN depths 8 and 16; the lr
# with the best mean last-epoch accuracy). See docs/benchmarks/depth/.
SGD_LR = {"mlp": 0.02, "cnn": 0.02}
LR_CANDIDATES = (0.01, 0.02, 0.05)
ADAM_LR = 1e-3
DEPTHS = {"mlp": (8, 16, 32, 64, 128), "cnn": (8, 16, 32, 64)}
ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")
# Critical orthogonal (mean field): (first layer's gain, later layers' gain,
# bias rule). Sigmoid is the tanh network sigmoid(x) = 1/2 + tanh(x/2)/2:
# gain 1 for the tanh unit is 2 on x/2 at the first layer (standardized
# inputs) and 4 on the sigmoid outputs of the later ones, whose mean 1/2 the
# bias cancels. GELU: with zero bias its variance map has no stable critical
# point (gain sqrt(2): the variance decays to 0 where chi -> 1/2; gain 2:
# chi -> 1 near 0 but the variance grows away), so it gets ReLU's gain.
CRITICAL = {
    "tanh": (1.0, 1.0, "tiny"),
    "sigmoid": (2.0, 4.0, "centre-sigmoid"),
    "relu": (math.sqrt(2.0), math.sqrt(2.0), "zero"),
    "gelu": (math.sqrt(2.0), math.sqrt(2.0), "zero"),
}
TANH_BIAS_STD = 0.01
# "calibrate, chi=1 target": calibrate's centred unit-variance layers have a
# backward multiplier chi = gain^2 E[phi'(h)^2] above 1 (tanh at its 0.5
# target: 1.034, so chi^128 = 76 in squared gradient norm; sigmoid at 1:
# 1.034; GELU at 1: 1.32; ReLU at any target: 1.47). A smaller pre-activation
# std keeps the units near their linear range, where chi -> 1: these targets
# give chi^128 <= 1.6 (tanh 0.1, sigmoid 0.25, GELU 0.05). ReLU is positively
# homogeneous, so no target changes its chi: it keeps the default, 1.
CHI_ONE_TARGET = {"tanh": 0.1, "sigmoid": 0.25, "gelu": 0.05, "relu": 1.0}
LAYERWISE_BLOCKS, LAYERWISE_STEPS = 4, 50


# --- data ----------------------------------------------------------------


@functools.cache
def mnist1d_data():
    """(x_train, y_train, x_test, y_test): MNIST-1D's 4,000 / 1,000, standardized."""
    import mnist1d

    args = mnist1d.data.get_dataset_args()
    args.num_samples = 5000
    data = mnist1d.data.make_dataset(args)
    x, x_test = data["x"].astype("float64"), data["x_test"].astype("float64")
    mean, std = x.mean(0), x.std(0) + 1e-8
    return (
        ((x - mean) / std).astype("float32"),
        np.asarray(data["y"], "int32"),
        ((x_test - mean) / std).astype("float32"),
        np.asarray(data["y_test"], "int32"),
    )


def inputs_for(network, x):
    """MNIST-1D as the network takes it: (n, 40) or (n, 40, 1)."""
    return x if network == "mlp" else x[..., None]


# --- networks --------------------------------------------------------------


class Session:
    """One compiled classifier (network, depth, activation, optimizer), reused.

    Every run of a method re-sets its weights and the optimizer's state, so
    the traced train function is built once per session, not once per run.
    """

    def __init__(self, network, depth, activation, optimizer, lr):
        self.network, self.depth, self.activation = network, depth, activation
        x_train, y_train, x_test, y_test = mnist1d_data()
        self.x = inputs_for(network, x_train)
        self.y, self.y_test = y_train, y_test
        self.x_test = inputs_for(network, x_test)
        inputs = keras.Input(self.x.shape[1:])
        self.hidden = [
            keras.layers.Dense(WIDTH, activation=activation, name=f"hidden{i}")
            if network == "mlp"
            else keras.layers.Conv1D(
                CHANNELS, KERNEL, padding="same", activation=activation
            )
            for i in range(depth)
        ]
        h = inputs
        for layer in self.hidden:
            h = layer(h)
        self.extractor = keras.Model(inputs, h, name="extractor")
        if network == "cnn":
            h = keras.layers.GlobalAveragePooling1D()(h)
        self.head = keras.layers.Dense(10, activation="softmax", name="head")
        self.model = keras.Model(inputs, self.head(h))
        self.lr = lr
        self.optimizer = (
            keras.optimizers.Adam(lr)
            if optimizer == "adam"
            else keras.optimizers.SGD(lr, momentum=0.9)
        )
        self.model.compile(
            self.optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        self.optimizer.build(self.model.trainable_variables)
        self.fresh_optimizer = [np.array(v.numpy()) for v in self.optimizer.variables]

    def reset_optimizer(self, lr):
        fresh = zip(self.optimizer.variables, self.fresh_optimizer, strict=True)
        for variable, value in fresh:
            variable.assign(value)
        self.optimizer.learning_rate.assign(lr)

    def fit(self, seed, lr, epochs):
        """Trains from the current weights: per-epoch test accuracy and loss."""
        self.reset_optimizer(lr)
        keras.utils.set_random_seed(seed)
        start = time.perf_counter()
        history = self.model.fit(
            self.x,
            self.y,
            epochs=epochs,
            batch_size=BATCH,
            validation_data=(self.x_test, self.y_test),
            verbose=0,
        ).history
        return history, time.perf_counter() - start


def set_layer(layer, kernel, bias):
    layer.kernel.assign(np.asarray(kernel, "float32"))
    layer.bias.assign(np.asarray(bias, "float32"))


def draw(initializer, shape):
    return keras.ops.convert_to_numpy(initializer(shape))


def set_head(session, seed):
    head = session.head
    kernel = draw(keras.initializers.GlorotUniform(seed=seed + 9999), head.kernel.shape)
    set_layer(head, kernel, np.zeros(head.bias.shape))


def set_random(session, seed, make):
    """Every hidden layer from `make(layer_index, seed)`, zero biases."""
    for i, layer in enumerate(session.hidden):
        kernel = draw(make(seed * 1000 + i), layer.kernel.shape)
        set_layer(layer, kernel, np.zeros(layer.bias.shape))


def set_critical(session, seed, delta=False):
    """Orthogonal (or delta-orthogonal) with the activation's critical gains."""
    first_gain, gain, bias_rule = CRITICAL[session.activation]
    rng = np.random.default_rng(seed + 12345)
    for i, layer in enumerate(session.hidden):
        g = first_gain if i == 0 else gain
        make = keras_ganinit.initializers.DeltaOrthogonal if delta else None
        make = make or keras.initializers.Orthogonal
        kernel = draw(make(gain=g, seed=seed * 1000 + i), layer.kernel.shape)
        bias = np.zeros(layer.bias.shape)
        if bias_rule == "tiny":
            bias = rng.normal(0.0, TANH_BIAS_STD, layer.bias.shape)
        elif bias_rule == "centre-sigmoid" and i > 0:
            bias = -0.5 * kernel.reshape(-1, kernel.shape[-1]).sum(0)
        set_layer(layer, kernel, bias)


def orthogonal_placeholders(session, seed):
    set_random(session, seed, lambda s: keras.initializers.Orthogonal(seed=s))


def x_batch(session):
    return session.x[:SAMPLES]


# --- methods ---------------------------------------------------------------
# Each returns a dict of notes (may be empty); its wall time is its set-up.


def he(session, seed):
    set_random(session, seed, lambda s: keras.initializers.HeNormal(seed=s))


def glorot(session, seed):
    set_random(session, seed, lambda s: keras.initializers.GlorotUniform(seed=s))


def lecun(session, seed):
    set_random(session, seed, lambda s: keras.initializers.LecunNormal(seed=s))


def orthogonal(session, seed):
    orthogonal_placeholders(session, seed)


def critical_orthogonal(session, seed):
    set_critical(session, seed)


def delta_orthogonal(session, seed):
    set_critical(session, seed, delta=True)


def lsuv(session, seed):
    orthogonal_placeholders(session, seed)
    keras_ganinit.lsuv(session.extractor, x_batch(session))


def anyinit_empirical(session, seed):
    import anyinit

    orthogonal_placeholders(session, seed)
    anyinit.initialize(
        session.extractor, "empirical", input_spec=x_batch(session), seed=seed
    )


def calibrate(session, seed):
    orthogonal_placeholders(session, seed)
    report = keras_ganinit.calibrate(session.extractor, x_batch(session))
    return {"calibrate_s": report.seconds}


def calibrate_chi_one(session, seed):
    orthogonal_placeholders(session, seed)
    target = CHI_ONE_TARGET[session.activation]
    report = keras_ganinit.calibrate(
        session.extractor, x_batch(session), target_std=lambda layer: target
    )
    return {"calibrate_s": report.seconds, "target_std": target}


def looks_linear(session, seed):
    orthogonal_placeholders(session, seed)
    report = keras_ganinit.calibrate(
        session.extractor, x_batch(session), looks_linear=True, seed=seed
    )
    started = sum(str(r["kernel"]).startswith("looks") for r in report.rows)
    return {"calibrate_s": report.seconds, "looks_linear_layers": started}


def gan_init(session, seed):
    glorot(session, seed)
    gan = keras_ganinit.GanInitModel(session.extractor, seed=seed)
    gan.compile()
    gan.fit(session.x, verbose=0)


def layerwise(session, seed, steps=None, blocks=None):
    """Greedy layer-wise GAN pretraining, then calibrate: see the header."""
    steps = steps or LAYERWISE_STEPS
    blocks = min(blocks or LAYERWISE_BLOCKS, session.depth)
    orthogonal_placeholders(session, seed)
    keras_ganinit.calibrate(session.extractor, x_batch(session))
    size = -(-session.depth // blocks)
    for b in range(blocks):
        layers = session.hidden[: (b + 1) * size]
        for layer in layers:
            layer.trainable = layer in layers[b * size :]
        sub = keras.Sequential([keras.Input(session.x.shape[1:]), *layers])
        gan = keras_ganinit.GanInitModel(sub, calibration=False, seed=seed + b)
        gan.compile()
        gan.fit(session.x, steps=steps, verbose=0)
    for layer in session.hidden:
        layer.trainable = True
    report = keras_ganinit.calibrate(session.extractor, x_batch(session))
    return {"blocks": blocks, "steps_per_block": steps, "calibrate_s": report.seconds}


# name -> (function, {network: (smallest, largest) depth it runs at by
# default, None: no limit}, multiplier of the SGD learning rate: a number,
# or a function of the depth). Shrunk for
# compute (2 shared CPU cores): LeCun and Orthogonal run on MLPs up to depth
# 32 (for square layers LeCun's variance 1/fan_in equals Glorot's, and
# Orthogonal(gain=1) is tanh's critical orthogonal without the bias); GAN init
# up to depth 32 (MLP) and 8 (CNN); the layer-wise prototype at depth 32; the
# fixes at depth >= 32.
ANY = {"mlp": (None, None), "cnn": (None, None)}
DEEP = {"mlp": (32, None), "cnn": (32, None)}
METHODS = {
    "He": (he, ANY, 1.0),
    "Glorot": (glorot, ANY, 1.0),
    "LeCun": (lecun, {"mlp": (None, 32)}, 1.0),
    "Orthogonal": (orthogonal, {"mlp": (None, 32)}, 1.0),
    "critical orthogonal": (critical_orthogonal, ANY, 1.0),
    "DeltaOrthogonal": (delta_orthogonal, {"cnn": (None, None)}, 1.0),
    "LSUV": (lsuv, ANY, 1.0),
    "AnyInit": (anyinit_empirical, ANY, 1.0),
    "calibrate": (calibrate, ANY, 1.0),
    "GAN init": (gan_init, {"mlp": (None, 32), "cnn": (None, 8)}, 1.0),
    "layer-wise + calibrate": (layerwise, {"mlp": (32, 32)}, 1.0),
    "calibrate, chi=1 target": (calibrate_chi_one, DEEP, 1.0),
    "calibrate, SGD lr / 4": (calibrate, DEEP, 0.25),
}
# The looks-linear start with SGD's lr times min(1, k / depth), k = None: 1.
LL_RULES = {
    "looks-linear": None,
    "looks-linear, lr x 16/depth": 16,
    "looks-linear, lr x 8/depth": 8,
}
for _name, _k in LL_RULES.items():
    METHODS[_name] = (
        looks_linear,
        ANY,
        1.0 if _k is None else functools.partial(lambda k, d: min(1.0, k / d), _k),
    )
PACKAGE = ("calibrate", "layer-wise + calibrate", "GAN init", *LL_RULES)
FIXES = ("calibrate, chi=1 target", "calibrate, SGD lr / 4")
PEERS = tuple(m for m in METHODS if m not in PACKAGE + FIXES)


# --- running ---------------------------------------------------------------


def run_key(record):
    return tuple(
        record[k]
        for k in ("network", "depth", "activation", "optimizer", "method", "seed")
    )


def run_one(session, optimizer, method, seed, epochs, quick):
    function, _, lr_scale = METHODS[method]
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    record = dict(
        network=session.network,
        depth=session.depth,
        activation=session.activation,
        optimizer=optimizer,
        method=method,
        seed=seed,
    )
    try:
        if quick and function is layerwise:
            notes = layerwise(session, seed, steps=5, blocks=2)
        else:
            notes = function(session, seed) or {}
        set_head(session, seed)
    except Exception as error:  # a method that cannot set this network up
        for layer in session.hidden:
            layer.trainable = True
        message = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        return {**record, "failed": message, "setup_s": time.perf_counter() - start}
    setup = time.perf_counter() - start
    if callable(lr_scale):
        lr_scale = lr_scale(session.depth)
    lr = session.lr * (lr_scale if optimizer == "sgd" else 1.0)
    history, seconds = session.fit(seed, lr, epochs)
    loss = np.asarray(history["loss"], "float64")
    return {
        **record,
        "lr": lr,
        "accuracy": [float(a) for a in history["val_accuracy"]],
        "loss": [float(v) if np.isfinite(v) else None for v in loss],
        "diverged": bool(not np.all(np.isfinite(loss))),
        "setup_s": setup,
        "fit_s": seconds,
        **notes,
    }


def load_results(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"runs": [], "timing": [], "selection": [], "diagnosis": []}


def save_results(results, path):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(path + ".tmp", path)


def seeds_at(depth, seeds, one_seed_below):
    return seeds if depth >= one_seed_below else seeds[:1]


def run_grid(args, results, path):
    done = {run_key(r) for r in results["runs"]}
    for network in args.networks:
        for optimizer in args.optimizers:
            for depth in args.depths or DEPTHS[network]:
                if depth not in DEPTHS[network] and not args.depths:
                    continue
                if optimizer == "adam" and depth not in args.adam_depths:
                    continue
                for activation in args.activations:
                    run_cell(
                        args, results, path, done, network, optimizer, depth, activation
                    )


def wanted(method, network, depth, args, activation=None):
    """Whether `method` runs on this network at this depth (and activation)."""
    _, depths, _ = METHODS[method]
    if network not in depths:
        return False
    if method == "calibrate, chi=1 target" and activation == "relu":
        return False  # the same target as calibrate's: the same run
    low, high = depths[network]
    if args.no_depth_limits:
        return True
    return (low is None or depth >= low) and (high is None or depth <= high)


def run_cell(args, results, path, done, network, optimizer, depth, activation):
    methods = [m for m in args.methods if wanted(m, network, depth, args, activation)]
    todo = [
        (m, s)
        for m in methods
        for s in seeds_at(depth, args.seeds, args.one_seed_below)
        if (network, depth, activation, optimizer, m, s) not in done
    ]
    if not todo:
        return
    lr = SGD_LR[network] if optimizer == "sgd" else ADAM_LR
    session = Session(network, depth, activation, optimizer, lr)
    for method, seed in todo:
        record = run_one(session, optimizer, method, seed, args.epochs, args.quick)
        results["runs"].append(record)
        done.add(run_key(record))
        save_results(results, path)
        acc = record.get("accuracy")
        shown = "failed: " + record["failed"] if acc is None else f"{acc[-1]:.3f}"
        print(
            f"{network} d{depth} {activation} {optimizer} {method!r} seed {seed}: "
            f"{shown}  (setup {record['setup_s']:.1f}s, "
            f"fit {record.get('fit_s', 0):.1f}s)",
            flush=True,
        )
    keras.backend.clear_session()


def select_lr(args, results, path):
    """The SGD learning rate per network type, on a selection seed."""
    seed, rows = 100, []
    cells = {"mlp": (8, 32), "cnn": (8, 16)}
    for network in args.networks:
        scores = {}
        for depth in cells[network]:
            for activation in ("relu", "tanh"):
                session = Session(network, depth, activation, "sgd", LR_CANDIDATES[0])
                for lr in LR_CANDIDATES:
                    session.lr = lr
                    for method in ("He", "calibrate"):
                        record = run_one(
                            session, "sgd", method, seed, args.epochs, False
                        )
                        acc = record["accuracy"][-1]
                        scores.setdefault(lr, []).append(acc)
                        rows.append({**record, "selection_lr": lr})
                        print(
                            f"lr {lr} {network} d{depth} {activation} {method}: "
                            f"{acc:.3f}"
                        )
                keras.backend.clear_session()
        means = {str(k): round(float(np.mean(v)), 4) for k, v in scores.items()}
        best = max(scores, key=lambda lr: np.mean(scores[lr]))
        print(f"{network}: mean accuracy by lr {means} -> best {best}", flush=True)
        results.setdefault("selection_summary", {})[network] = dict(
            mean_accuracy_by_lr=means, best=best
        )
        results["selection"] = [
            r for r in results["selection"] if r["network"] != network
        ] + rows
        rows = []
        save_results(results, path)


def select_ll_lr(args, results, path):
    """Which LL_RULES learning rate the docs recommend, on a selection seed.

    The rule, written before the runs: seed 100 (not a reported seed); the
    cells MLP depths 32 and 128, CNN depths 32 and 64, with ReLU, GELU and
    tanh, SGD, 10 epochs; every LL_RULES variant on each. The rule with the
    highest mean last-epoch accuracy over these 12 cells is recommended; a
    tie (within 0.005) goes to the larger learning rate. The grid then runs
    on seeds 0 and 1 and is reported as it comes out.
    """
    seed, rows, scores = 100, [], {}
    cells = {"mlp": (32, 128), "cnn": (32, 64)}
    for network in args.networks:
        for depth in cells[network]:
            for activation in ("relu", "gelu", "tanh"):
                session = Session(network, depth, activation, "sgd", SGD_LR[network])
                for method in LL_RULES:
                    record = run_one(session, "sgd", method, seed, args.epochs, False)
                    acc = record["accuracy"][-1]
                    scores.setdefault(method, []).append(acc)
                    rows.append(record)
                    print(
                        f"{method!r} {network} d{depth} {activation}: {acc:.3f}",
                        flush=True,
                    )
                keras.backend.clear_session()
    means = {m: round(float(np.mean(v)), 4) for m, v in scores.items()}
    top = max(means.values())
    best = next(m for m in LL_RULES if means[m] >= top - 0.005)
    print(f"mean accuracy by rule {means} -> recommended {best!r}", flush=True)
    results["ll_selection"] = dict(mean_accuracy=means, best=best, runs=rows)
    save_results(results, path)


# --- calibrate's time ------------------------------------------------------


def time_calibrate(quick):
    """calibrate()'s seconds on a deep MLP and deep CNNs: 3 calls each."""
    rows = []
    shapes = (
        [("mlp", 16, WIDTH), ("cnn", 8, CHANNELS)]
        if quick
        else [
            ("mlp", 128, WIDTH),
            ("cnn", 64, CHANNELS),
            ("cnn", 64, 32),
        ]
    )
    x = mnist1d_data()[0]
    for network, depth, width in shapes:
        inputs = keras.Input((40,) if network == "mlp" else (40, 1))
        h = inputs
        for _ in range(depth):
            h = (
                keras.layers.Dense(width, activation="relu")(h)
                if network == "mlp"
                else keras.layers.Conv1D(
                    width, KERNEL, padding="same", activation="relu"
                )(h)
            )
        model = keras.Model(inputs, h)
        seconds = []
        for _ in range(3):
            report = keras_ganinit.calibrate(model, inputs_for(network, x)[:SAMPLES])
            seconds.append(report.seconds)
        rows.append(dict(network=network, depth=depth, width=width, seconds=seconds))
        print(
            f"calibrate on a {depth}-layer {network.upper()} (width {width}), "
            f"{SAMPLES} samples: "
            + ", ".join(f"{s:.2f}" for s in seconds)
            + " s (first call, then repeats)",
            flush=True,
        )
        keras.backend.clear_session()
    return rows


# --- diagnosis -------------------------------------------------------------


def gradient_norms(session):
    """The loss gradient's norm at every hidden kernel, on the first 512 samples."""
    model, x = session.model, session.x[:SAMPLES]
    y = session.y[:SAMPLES]
    kernels = [layer.kernel for layer in session.hidden]
    backend = keras.backend.backend()

    def loss_of(probabilities):
        return keras.ops.mean(
            keras.losses.sparse_categorical_crossentropy(y, probabilities)
        )

    if backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]

        def loss_fn(values):
            return loss_of(model.stateless_call(values, frozen, x)[0])

        grads = dict(
            zip(
                [id(v) for v in model.trainable_variables],
                jax.grad(loss_fn)(trainable),
                strict=True,
            )
        )
        grads = [grads[id(k)] for k in kernels]
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_of(model(x))
        grads = tape.gradient(loss, kernels)
    else:
        import torch

        model.zero_grad()
        loss_of(model(torch.as_tensor(x))).backward()
        grads = [k.value.grad for k in kernels]
    return [float(np.linalg.norm(keras.ops.convert_to_numpy(g))) for g in grads]


def diagnose(args, results, path, cells):
    """Activation statistics and gradient norms at init, for the named cells."""
    rows = []
    methods = [m for m in args.methods if m != "GAN init"]
    for cell in cells:
        network, depth, activation = cell.split("-")
        depth = int(depth)
        session = Session(network, depth, activation, "sgd", SGD_LR[network])
        for method in methods:
            if not wanted(method, network, depth, args, activation):
                continue
            seed = args.seeds[0]
            keras.utils.set_random_seed(seed)
            METHODS[method][0](session, seed)
            set_head(session, seed)
            report = keras_ganinit.activation_report(
                session.model, session.x[:SAMPLES]
            ).rows
            grads = gradient_norms(session)
            picks = sorted({0, depth // 2, depth - 1})
            row = dict(
                cell=cell,
                method=method,
                layers=[
                    {
                        key: report[i][key]
                        for key in (
                            "layer",
                            "pre_activation_mean",
                            "pre_activation_std",
                            "output_std",
                            "dead_fraction",
                            "saturated_fraction",
                        )
                    }
                    | {"index": i, "grad_norm": grads[i]}
                    for i in picks
                ],
                head_output_std=report[-1]["pre_activation_std"],
                grad_first_over_last=grads[0] / max(grads[-1], 1e-30),
            )
            rows.append(row)
            first, last = row["layers"][0], row["layers"][-1]
            print(
                f"{cell} {method!r}: pre-act std first "
                f"{first['pre_activation_std']:.3g}"
                f" last {last['pre_activation_std']:.3g}; out std last "
                f"{last['output_std']:.3g}; dead {last['dead_fraction']:.2f} sat "
                f"{last['saturated_fraction']:.2f}; logits std "
                f"{row['head_output_std']:.3g}; |grad| first "
                f"{first['grad_norm']:.3g} last {last['grad_norm']:.3g} "
                f"(ratio {row['grad_first_over_last']:.3g})",
                flush=True,
            )
        keras.backend.clear_session()
    results["diagnosis"] = [r for r in results["diagnosis"] if r["cell"] not in cells]
    results["diagnosis"] += rows
    save_results(results, path)


# --- report ----------------------------------------------------------------


def summarize(runs):
    """(network, optimizer, activation, depth, method) -> summary over seeds."""
    groups = {}
    for r in runs:
        key = (r["network"], r["optimizer"], r["activation"], r["depth"], r["method"])
        groups.setdefault(key, []).append(r)
    table = {}
    for key, rs in groups.items():
        ok = [r for r in rs if "accuracy" in r]
        if not ok:
            table[key] = dict(failed=rs[0]["failed"], n=0)
            continue
        accuracy = np.array([r["accuracy"] for r in ok])
        last = accuracy[:, -1]
        epoch3 = accuracy[:, min(2, accuracy.shape[1] - 1)]
        table[key] = dict(
            n=len(ok),
            mean=float(last.mean()),
            std=float(last.std()),
            epoch1=float(accuracy[:, 0].mean()),
            epoch3=float(epoch3.mean()),
            started=int((epoch3 >= CHANCE + STARTED_MARGIN).sum()),
            diverged=int(sum(r["diverged"] for r in ok)),
            setup_s=float(np.median([r["setup_s"] for r in ok])),
        )
    return table


def cells_of(table):
    """(network, optimizer, activation) present, in a fixed order."""
    order = {a: i for i, a in enumerate(ACTIVATIONS)}
    keys = {(n, o, a) for n, o, a, _, _ in table}
    return sorted(
        keys, key=lambda k: (k[0] != "mlp", k[1] != "sgd", order.get(k[2], 9))
    )


def depths_of(table, network, optimizer, activation):
    return sorted(
        {d for n, o, a, d, _ in table if (n, o, a) == (network, optimizer, activation)}
    )


def methods_of(table, network, optimizer, activation):
    present = {
        m for n, o, a, _, m in table if (n, o, a) == (network, optimizer, activation)
    }
    return [m for m in METHODS if m in present]


def accuracy_cell(s):
    if s is None:
        return "-"
    if s["n"] == 0:
        return "failed"
    text = f"{s['mean']:.3f}" if s["n"] == 1 else mean_std(s["mean"], s["std"])
    return text + (" (div)" if s["diverged"] else "")


def grid_tables(table, field):
    """One Markdown table per (network, optimizer, activation): methods x depths."""
    parts = []
    for network, optimizer, activation in cells_of(table):
        depths = depths_of(table, network, optimizer, activation)
        rows = []
        for method in methods_of(table, network, optimizer, activation):
            cells = []
            for depth in depths:
                s = table.get((network, optimizer, activation, depth, method))
                cells.append(field(s))
            rows.append([method, *cells])
        parts.append(f"#### {network.upper()}, {activation}, {optimizer.upper()}\n")
        parts.append(markdown_table(["method", *[f"depth {d}" for d in depths]], rows))
    return "\n".join(parts)


def started_cell(s):
    if s is None:
        return "-"
    if s["n"] == 0:
        return "failed"
    return f"{s['started']}/{s['n']}"


def epochs_cell(s):
    if s is None or s["n"] == 0:
        return "-" if s is None else "failed"
    return f"{s['epoch1']:.2f} / {s['epoch3']:.2f} / {s['mean']:.2f}"


def setup_table(table):
    methods = [m for m in METHODS if any(k[4] == m for k in table)]
    keys = sorted({(k[0], k[3]) for k in table})
    rows = []
    for method in methods:
        row = [method]
        for network, depth in keys:
            values = [
                s["setup_s"]
                for k, s in table.items()
                if (k[0], k[3], k[4]) == (network, depth, method) and s["n"]
            ]
            row.append(f"{np.median(values):.2f}" if values else "-")
        rows.append(row)
    return markdown_table(["method", *[f"{n} {d}" for n, d in keys]], rows)


def stop_depth(table, network, optimizer, activation, method):
    """The first depth where some seed of `method` did not start training."""
    for depth in depths_of(table, network, optimizer, activation):
        s = table.get((network, optimizer, activation, depth, method))
        if s and (s["n"] == 0 or s["started"] < s["n"]):
            return f"{depth} ({s['started']}/{s['n']} started)"
    return None


def goal_one(table, method):
    """Goal 1 for `method`: every SGD depth >= 90% (sigmoid 75%) of depth 8."""
    lines = [
        f"**Goal 1, {method}** (SGD: at every depth >= 90% of the depth-8 "
        "accuracy of the same activation, sigmoid 75%; reference: the best "
        "method at depth 8, and the method's own depth 8 in brackets)\n"
    ]
    rows, met_all = [], True
    for network, optimizer, activation in cells_of(table):
        if optimizer != "sgd":
            continue
        depths = depths_of(table, network, optimizer, activation)
        if not depths or depths[0] != 8:
            continue
        best8 = max(
            (
                s["mean"]
                for k, s in table.items()
                if k[:4] == (network, optimizer, activation, 8) and s["n"]
            ),
            default=None,
        )
        own8 = table.get((network, optimizer, activation, 8, method))
        need = 0.75 if activation == "sigmoid" else 0.9
        for depth in depths[1:]:
            s = table.get((network, optimizer, activation, depth, method))
            if not s or not s["n"] or best8 is None:
                continue
            ratio = s["mean"] / best8
            ratio_own = s["mean"] / own8["mean"] if own8 and own8["n"] else float("nan")
            met = ratio >= need
            met_all &= met
            rows.append(
                [
                    network,
                    activation,
                    depth,
                    f"{s['mean']:.3f}",
                    f"{best8:.3f}",
                    f"{ratio:.2f} ({ratio_own:.2f})",
                    f"{need:.2f}",
                    "yes" if met else "**no**",
                ]
            )
    met_count = sum(r[-1] == "yes" for r in rows)
    lines.append(
        markdown_table(
            [
                "network",
                "activation",
                "depth",
                method,
                "best at depth 8",
                "ratio (to own depth 8)",
                "needed",
                "met",
            ],
            rows,
        )
    )
    lines.append(
        f"\nGoal 1 for {method} met in {met_count}/{len(rows)} cells; in every "
        f"cell: {'yes' if met_all and rows else 'no'}.\n"
    )
    return lines


def goals(table, timing, recommended=None):
    """The issue's goals, checked: Markdown lines.

    `recommended`: the looks-linear rule `--select-ll-lr` picked, checked
    beside `calibrate` where it ran.
    """
    lines = []
    # 1. calibrate trains every SGD network to 90% (sigmoid 75%) of depth 8.
    for method in ("calibrate", recommended):
        if method is not None:
            lines += goal_one(table, method)
    # 2. where He, Glorot, AnyInit stop training.
    lines.append(
        "**Goal 2** (the first depth where a seed did not start training: "
        "epoch-3 accuracy < 0.15; '-': started at every depth run)\n"
    )
    rows = []
    stopping = [
        "He",
        "Glorot",
        "LeCun",
        "Orthogonal",
        "AnyInit",
        "LSUV",
        "critical orthogonal",
        "calibrate",
        *([recommended] if recommended else []),
    ]
    for network, optimizer, activation in cells_of(table):
        row = [network, optimizer, activation]
        for method in stopping:
            depth = stop_depth(table, network, optimizer, activation, method)
            row.append(depth or "-")
        rows.append(row)
    short = {"critical orthogonal": "crit. orth."}
    lines.append(
        markdown_table(
            ["network", "optimizer", "activation"]
            + [short.get(method, method) for method in stopping],
            rows,
        )
    )
    # 3. at depth >= 32 the package is at or above every peer in 80% of cells.
    packages = [
        ("calibrate or layer-wise", ("calibrate", "layer-wise + calibrate")),
        ("with the fixes too", ("calibrate", "layer-wise + calibrate", *FIXES)),
    ]
    if recommended:
        packages.append((f"calibrate or {recommended}", ("calibrate", recommended)))
    for label, package in packages:
        wins = ties = total = 0
        lost = []
        for key in sorted({k[:4] for k in table}):
            if key[3] < 32:
                continue
            ours = [
                table[key + (m,)]
                for m in package
                if key + (m,) in table and table[key + (m,)]["n"]
            ]
            peers = [
                (m, table[key + (m,)])
                for m in PEERS
                if key + (m,) in table and table[key + (m,)]["n"]
            ]
            if not ours or not peers:
                continue
            total += 1
            best_ours = max(ours, key=lambda s: s["mean"])
            best_peer, peer = max(peers, key=lambda p: p[1]["mean"])
            if best_ours["mean"] >= peer["mean"]:
                wins += 1
            elif best_ours["mean"] >= peer["mean"] - max(best_ours["std"], peer["std"]):
                ties += 1
                lost.append(
                    f"{'-'.join(map(str, key))} ({best_peer} {peer['mean']:.3f} "
                    f"vs {best_ours['mean']:.3f}, within a std)"
                )
            else:
                lost.append(
                    f"{'-'.join(map(str, key))} ({best_peer} {peer['mean']:.3f} "
                    f"vs {best_ours['mean']:.3f})"
                )
        if total:
            lines.append(
                f"\n**Goal 3** ({label}): at or above the best peer in {wins}/{total} "
                f"cells at depth >= 32 ({100 * wins / total:.0f}%; "
                f"{100 * (wins + ties) / total:.0f}% counting cells within one "
                "seed std); "
                f"needed 80%: {'met' if wins >= 0.8 * total else 'not met'}. Below: "
                + ("; ".join(lost) or "none")
                + "."
            )
    # 4. calibrate's time.
    for row in timing:
        fastest = min(row["seconds"])
        verdict = "yes" if max(row["seconds"]) < 2 else "no"
        verdict = (
            "after the first call only"
            if fastest < 2 < max(row["seconds"])
            else verdict
        )
        lines.append(
            f"\n**Goal 4**: calibrate on the {row['depth']}-layer "
            f"{row['network'].upper()} "
            f"(width {row['width']}, {row.get('backend', '?')}): "
            + ", ".join(f"{s:.2f}" for s in row["seconds"])
            + f" s; under 2 s: {verdict}."
        )
    # 5. layer-wise vs calibrate.
    rows = []
    for key in sorted({k[:4] for k in table}):
        a = table.get(key + ("layer-wise + calibrate",))
        b = table.get(key + ("calibrate",))
        if a and b and a["n"] and b["n"]:
            gap = a["mean"] - b["mean"]
            rows.append(
                [
                    *map(str, key),
                    f"{a['mean']:.3f}",
                    f"{b['mean']:.3f}",
                    f"{100 * gap:+.1f}",
                ]
            )
    if rows:
        lines.append(
            "\n**Goal 5** (layer-wise + calibrate against calibrate alone, "
            "last-epoch accuracy, points)\n"
        )
        lines.append(
            markdown_table(
                [
                    "network",
                    "optimizer",
                    "activation",
                    "depth",
                    "layer-wise",
                    "calibrate",
                    "gap",
                ],
                rows,
            )
        )
        best = max(rows, key=lambda r: float(r[-1]))
        deep = [r for r in rows if int(r[3]) >= 32 and float(r[-1]) >= 2]
        lines.append(
            f"\nLayer-wise beats calibrate alone by >= 2 points at depth >= 32: "
            f"{f'yes, in {len(deep)} cell(s)' if deep else 'no'} (largest gap "
            f"{best[-1]} points, {'-'.join(best[:4])})."
        )
    return "\n".join(lines)


def diagnosis_table(rows):
    """`--diagnose`'s rows: activation statistics and gradient norms at init."""
    header = [
        "cell",
        "method",
        "pre-act std: first / mid / last",
        "last: output std, dead, saturated",
        "logits std",
        "|grad W|: first / mid / last",
    ]
    body = []
    for row in rows:
        layers = row["layers"]
        last = layers[-1]
        body.append(
            [
                row["cell"],
                row["method"],
                " / ".join(f"{r['pre_activation_std']:.3g}" for r in layers),
                f"{last['output_std']:.3g}, {last['dead_fraction']:.2f}, "
                f"{last['saturated_fraction']:.2f}",
                f"{row['head_output_std']:.3g}",
                " / ".join(f"{r['grad_norm']:.3g}" for r in layers),
            ]
        )
    return markdown_table(header, body)


def plot(table, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for activation in ACTIVATIONS:
        panels = [c for c in cells_of(table) if c[2] == activation]
        if not panels:
            continue
        colours = plt.get_cmap("tab20")
        fig, axes = plt.subplots(
            1,
            len(panels),
            figsize=(5 * len(panels) + 2.5, 4),
            squeeze=False,
            layout="constrained",
        )
        for ax, (network, optimizer, _) in zip(axes[0], panels, strict=True):
            for method in methods_of(table, network, optimizer, activation):
                points = [
                    (d, table[(network, optimizer, activation, d, method)])
                    for d in depths_of(table, network, optimizer, activation)
                    if (network, optimizer, activation, d, method) in table
                ]
                points = [(d, s) for d, s in points if s["n"]]
                if not points:
                    continue
                style = "-" if method in PACKAGE else ("--" if method in FIXES else ":")
                ax.errorbar(
                    [d for d, _ in points],
                    [s["mean"] for _, s in points],
                    yerr=[s["std"] for _, s in points],
                    marker="o",
                    linestyle=style,
                    color=colours(list(METHODS).index(method)),
                    label=method,
                    capsize=2,
                )
            ax.axhline(CHANCE, color="grey", linewidth=0.8)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("depth (hidden layers)")
            ax.set_ylabel("test accuracy, last epoch")
            ax.set_ylim(0, 1)
            ax.set_title(f"{network.upper()}, {activation}, {optimizer.upper()}")
        labelled = {}
        for ax in axes[0]:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                labelled.setdefault(label, handle)
        ordered = [m for m in METHODS if m in labelled]
        fig.legend(
            [labelled[m] for m in ordered], ordered, fontsize=7, loc="outside right"
        )
        fig.savefig(os.path.join(out, f"depth-{activation}.png"), dpi=90)
        plt.close(fig)


def write_report(results, out):
    table = summarize(results["runs"])
    meta = results.get("meta", {})
    parts = [
        "# Depth: plain deep networks, side by side\n",
        "Written by `benchmarks/depth.py` (its header says what every method "
        "does). MNIST-1D 4,000 / 1,000, standardized; MLP width "
        f"{WIDTH}; CNN Conv1D {meta.get('channels', CHANNELS)} channels, kernel "
        f"{KERNEL}, global "
        f"average pooling; {EPOCHS} epochs of batch {BATCH} unless the runs say "
        f"otherwise; SGD momentum 0.9 at lr {SGD_LR} (picked by --select-lr), "
        f"Adam {ADAM_LR}. Mean ± std over seeds where there are 2+; '(div)': "
        "a seed's loss became NaN/inf. Backend and machine: "
        f"{meta.get('backend', '?')}, {meta.get('machine', '?')}.\n",
        "## Test accuracy at the last epoch\n",
        grid_tables(table, accuracy_cell),
        "\n## Training started (epoch-3 accuracy >= 0.15): seeds started / seeds run\n",
        grid_tables(table, started_cell),
        "\n## Test accuracy at epochs 1 / 3 / last (means over seeds)\n",
        grid_tables(table, epochs_cell),
        "\n## Set-up seconds per method (median over activations and seeds; "
        "the first run of a session includes one-time compilation)\n",
        setup_table(table),
        "\n## Goals (issue 23)\n",
        goals(
            table,
            results.get("timing", []),
            results.get("ll_selection", {}).get("best"),
        ),
    ]
    if results.get("diagnosis"):
        parts.append("\n## Diagnosis: the networks at initialization (seed 0)\n")
        parts.append(diagnosis_table(results["diagnosis"]))
    failed = sorted({(k[4], s["failed"]) for k, s in table.items() if s["n"] == 0})
    if failed:
        parts.append("\n## Methods that failed\n")
        parts.append(markdown_table(["method", "error"], [list(f) for f in failed]))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "depth.md"), "w") as f:
        f.write("\n".join(parts) + "\n")
    rows = [
        [
            r["network"],
            r["optimizer"],
            r["activation"],
            r["depth"],
            r["method"],
            r["seed"],
            " ".join(f"{a:.3f}" for a in r["accuracy"])
            if "accuracy" in r
            else "failed",
            " ".join("nan" if v is None else f"{v:.3f}" for v in r.get("loss", [])),
            f"{r['setup_s']:.2f}",
        ]
        for r in results["runs"]
    ]
    with open(os.path.join(out, "runs.md"), "w") as f:
        f.write("# Every run: test accuracy and training loss per epoch\n\n")
        f.write(
            markdown_table(
                [
                    "network",
                    "opt",
                    "act",
                    "depth",
                    "method",
                    "seed",
                    "test accuracy per epoch",
                    "loss per epoch",
                    "setup s",
                ],
                rows,
            )
            + "\n"
        )
    plot(table, out)


# --- command line ------------------------------------------------------------


def main(argv=None):
    global CHANNELS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (< 1 min)")
    parser.add_argument("--backend", help="the Keras backend (sets KERAS_BACKEND)")
    parser.add_argument(
        "--networks", nargs="+", default=["mlp", "cnn"], choices=["mlp", "cnn"]
    )
    parser.add_argument(
        "--depths", nargs="+", type=int, help="default: MLP 8-128, CNN 8-64"
    )
    parser.add_argument(
        "--activations", nargs="+", default=list(ACTIVATIONS), choices=ACTIVATIONS
    )
    parser.add_argument(
        "--methods", nargs="+", default=list(METHODS), choices=list(METHODS)
    )
    parser.add_argument(
        "--optimizers", nargs="+", default=["sgd"], choices=["sgd", "adam"]
    )
    parser.add_argument(
        "--adam-depths",
        nargs="+",
        type=int,
        default=[32, 128],
        help="the depths Adam runs at",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument(
        "--one-seed-below",
        type=int,
        default=32,
        help="depths below this run the first seed only",
    )
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument(
        "--channels",
        type=int,
        default=CHANNELS,
        help="the CNNs' channels (keep one value per --out folder)",
    )
    parser.add_argument(
        "--no-depth-limits",
        action="store_true",
        help="run GAN init beyond depth 32 too",
    )
    parser.add_argument(
        "--select-lr", action="store_true", help="run the SGD lr selection only"
    )
    parser.add_argument(
        "--select-ll-lr",
        action="store_true",
        help="run the looks-linear lr rule selection only",
    )
    parser.add_argument(
        "--diagnose",
        nargs="+",
        metavar="NET-DEPTH-ACT",
        help="init statistics for these cells, e.g. mlp-32-relu",
    )
    parser.add_argument(
        "--no-timing", action="store_true", help="skip calibrate's timing"
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="only rewrite the report from results.json",
    )
    parser.add_argument("--out", default=os.path.join("docs", "benchmarks", "depth"))
    args = parser.parse_args(argv)
    if args.quick:  # MLP and CNN at depth 8, 3 epochs, a few methods
        args.networks, args.depths, args.seeds = ["mlp", "cnn"], [8], [0]
        args.activations, args.optimizers, args.epochs = ["relu", "tanh"], ["sgd"], 3
        args.methods = ["He", "critical orthogonal", "DeltaOrthogonal", "calibrate"]
        args.methods += ["layer-wise + calibrate", "looks-linear, lr x 16/depth"]
        args.no_depth_limits = True
    path = os.path.join(args.out, "results.json")
    results = load_results(path)
    CHANNELS = results.get("meta", {}).get("channels", args.channels)
    if CHANNELS != args.channels and not args.report:
        parser.error(
            f"{path} holds runs with {CHANNELS} CNN channels; pass --channels "
            f"{CHANNELS} or another --out"
        )
    results["meta"] = dict(
        channels=CHANNELS,
        backend=keras.backend.backend(),
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        keras=keras.__version__,
    )
    if args.report:
        write_report(results, args.out)
        return
    if args.select_lr:
        select_lr(args, results, path)
        return
    if args.select_ll_lr:
        select_ll_lr(args, results, path)
        return
    if args.diagnose:
        diagnose(args, results, path, args.diagnose)
        return
    if not args.no_timing:
        rows = [
            dict(r, backend=keras.backend.backend()) for r in time_calibrate(args.quick)
        ]
        keep = [
            r for r in results["timing"] if r.get("backend") != keras.backend.backend()
        ]
        results["timing"] = keep + rows
        save_results(results, path)
    run_grid(args, results, path)
    write_report(results, args.out)
    print(f"wrote {args.out}/results.json, depth.md, runs.md and depth-*.png")


if __name__ == "__main__":
    main()
