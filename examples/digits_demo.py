"""Digits demo: GAN init where it is meant to help: many images, few labels.

A small CNN (Conv2D 16, max-pool, Conv2D 32, Dense 64, all ReLU, then a
Dense 10 softmax head) learns scikit-learn's bundled 8x8 digits from only 10%
of the training labels. Every method prepares the same extractor, then the
same classifier is trained from it with the same head, optimizer (Adam 1e-3),
epochs, labelled subset and data order per seed, and is scored on a held-out
test split:

- HeNormal: Keras's usual start for ReLU layers, no data seen.
- LSUV: Orthogonal kernels rescaled to unit output variance on 512 training
  images (`keras_ganinit.lsuv`).
- AnyInit (empirical): `anyinit.initialize(extractor, "empirical", x[:512])`,
  if the `anyinit` package is installed.
- Calibration alone: Orthogonal kernels, then the calibration GAN init ends
  with (`lsuv(..., center=True)`: unit variance and zero-mean units), no
  pretraining: which part of GAN init you pay for.
- GAN init: `GanInitModel(extractor)` pretrained without labels on all
  training images (200 steps, then calibrated), handed to a fresh extractor
  with `keras_ganinit.with_pretrained_initializers`.

It prints the mean ± std of test accuracy over seeds at a few epochs, the
wall time of each method's set-up and of the supervised run, and a verdict
computed from those numbers, and saves a plot of accuracy per epoch.

Run: python examples/digits_demo.py [--seeds 3] [--epochs 10] [--steps 200]
    [--labels 0.1] [--plot digits_demo.png]
(about 2 minutes on 2 CPUs with TensorFlow; any Keras backend works).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_quietly():
    """Imports Keras (and TensorFlow) with the C++ side's stderr muted.

    TensorFlow (2.21 here) logs through Abseil, which writes "All log messages
    before absl::InitializeLog() is called are written to STDERR" and a few
    INFO lines on import whatever TF_CPP_MIN_LOG_LEVEL says
    (abseil/abseil-cpp#1957). Only muting file descriptor 2 during the import
    hides them; a failing import still raises its error as usual.
    """
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras

        if keras.backend.backend() != "tensorflow":
            try:  # keras.utils.set_random_seed imports it anyway, to seed it
                import tensorflow  # noqa: F401
            except ImportError:
                pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_import_quietly()

import argparse  # noqa: E402
import time  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import keras_ganinit  # noqa: E402
from keras_ganinit.callbacks import Reconstructions  # noqa: E402

try:
    import anyinit
except ImportError:  # pip install anyinit to add it to the comparison
    anyinit = None

BATCH = 16  # supervised batch size: ~126 labelled images, 8 steps per epoch
SAMPLES = 512  # the unlabelled batch the data-dependent methods measure on


def load_data(labels, seed):
    """(unlabelled train images, labelled subset, its labels, test images, labels).

    The test split (30%) is the same for every seed; the labelled subset, a
    `labels` fraction of each class of the training split, is drawn per seed.
    """
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32").reshape(-1, 8, 8, 1)
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.3, random_state=0, stratify=digits.target
    )
    rng = np.random.default_rng(seed)
    chosen = np.concatenate(
        [
            rng.choice(where, max(1, round(labels * len(where))), replace=False)
            for where in (np.flatnonzero(y_train == c) for c in range(10))
        ]
    )
    return x_train, x_train[chosen], y_train[chosen], x_test, y_test


def make_extractor(initializer, seed):
    """The CNN every method starts; `initializer` is a Keras initializer class."""

    def kernel(i):
        return initializer(seed=seed * 10 + i)

    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(
                16,
                3,
                padding="same",
                activation="relu",
                name="conv1",
                kernel_initializer=kernel(1),
            ),
            layers.MaxPooling2D(2, name="pool"),
            layers.Conv2D(
                32,
                3,
                padding="same",
                activation="relu",
                name="conv2",
                kernel_initializer=kernel(2),
            ),
            layers.Flatten(name="flat"),
            layers.Dense(
                64, activation="relu", name="features", kernel_initializer=kernel(3)
            ),
        ],
        name="extractor",
    )


# Each method: (unlabelled images, seed, pretraining steps) -> extractor.
def he_normal(x, seed, steps):
    return make_extractor(keras.initializers.HeNormal, seed)


def lsuv(x, seed, steps):
    extractor = make_extractor(keras.initializers.Orthogonal, seed)
    return keras_ganinit.lsuv(extractor, x[:SAMPLES])


def anyinit_empirical(x, seed, steps):
    extractor = make_extractor(keras.initializers.Orthogonal, seed)
    anyinit.initialize(extractor, "empirical", x[:SAMPLES], seed=seed)
    return extractor


def calibration_alone(x, seed, steps):
    # What GanInitModel's calibration does after pretraining (target std 1 for
    # ReLU layers), here on random orthogonal kernels.
    extractor = make_extractor(keras.initializers.Orthogonal, seed)
    return keras_ganinit.lsuv(extractor, x[:SAMPLES], center=True, target_std=1.0)


# Where the first seed's GAN pretraining draws its pictures (--pictures).
PICTURES = {"directory": None}


def gan_init(x, seed, steps):
    gan = keras_ganinit.GanInitModel(make_extractor(keras.initializers.HeNormal, seed))
    gan.compile()
    callbacks, epochs = [], 1
    if PICTURES["directory"]:  # real digits beside the generator's output
        epochs = min(4, steps)  # the same steps, in 4 epochs: 4 pictures
        callbacks.append(Reconstructions(x[:8], PICTURES["directory"]))
    gan.fit(
        x, steps=steps, epochs=epochs, batch_size=64, verbose=0, callbacks=callbacks
    )
    if PICTURES["directory"]:
        path = os.path.join(PICTURES["directory"], "first_layer_filters.png")
        keras_ganinit.plot_filters(gan.extractor, path=path)
        PICTURES["directory"] = None  # the first seed only
    fresh = make_extractor(keras.initializers.HeNormal, seed)
    return keras_ganinit.with_pretrained_initializers(fresh, gan)


METHODS = {
    "HeNormal": he_normal,
    "LSUV": lsuv,
    "AnyInit (empirical)": anyinit_empirical,
    "Calibration alone": calibration_alone,
    "GAN init": gan_init,
}
if anyinit is None:
    del METHODS["AnyInit (empirical)"]


def train(extractor, data, epochs, seed):
    """Test accuracy after each epoch of the same classifier on `extractor`."""
    _, x_labelled, y_labelled, x_test, y_test = data
    keras.utils.set_random_seed(seed)
    head = layers.Dense(
        10,
        activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        name="head",
    )
    model = keras.Sequential([extractor, head])
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    order = np.random.default_rng(seed)  # the same data order for every method
    accuracy = []
    for _ in range(epochs):
        shuffled = order.permutation(len(x_labelled))
        model.fit(
            x_labelled[shuffled],
            y_labelled[shuffled],
            batch_size=BATCH,
            epochs=1,
            shuffle=False,
            verbose=0,
        )
        scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
        accuracy.append(scores["accuracy"])
    return accuracy


def run(method, data, args, seed):
    """(test accuracy per epoch, set-up seconds, supervised seconds)."""
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    extractor = METHODS[method](data[0], seed, args.steps)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = train(extractor, data, args.epochs, seed)
    return accuracy, setup, time.perf_counter() - start


def mean_std(values):
    values = np.asarray(values)
    return f"{values.mean():.3f} ± {values.std():.3f}"


def table(results, epochs):
    columns = sorted({e for e in (1, 3, epochs) if e <= epochs})
    header = [f"epoch {e}" for e in columns] + ["set-up s", "train s"]
    width = max(len(name) for name in results) + 2
    lines = [f"{'method':<{width}}" + "".join(f"{h:>15}" for h in header)]
    for name, result in results.items():
        cells = [mean_std(result["accuracy"][:, e - 1]) for e in columns]
        cells += [f"{np.mean(result[key]):.1f}" for key in ("setup_s", "train_s")]
        lines.append(f"{name:<{width}}" + "".join(f"{c:>15}" for c in cells))
    return "\n".join(lines)


def verdict(results, epoch):
    """One line: the best method at `epoch`, and by how much, from the numbers."""
    scores = {name: r["accuracy"][:, epoch - 1] for name, r in results.items()}
    ranked = sorted(scores, key=lambda name: scores[name].mean(), reverse=True)
    best, second = ranked[0], ranked[1]
    differences = scores[best] - scores[second]
    margin = differences.mean()
    line = (
        f"Epoch {epoch}: {best} is best, {scores[best].mean():.3f} against "
        f"{scores[second].mean():.3f} for {second} (+{margin:.3f}"
    )
    if len(differences) < 2:
        return line + "; one seed, so no spread to compare with)."
    spread = max(scores[best].std(), scores[second].std())
    ahead = int((differences > 0).sum())
    size = (
        f"{margin / spread:.1f}x the larger seed std {spread:.3f}"
        if spread > 0
        else "no spread across seeds"
    )
    within = "" if margin > spread else ": within the spread"
    return f"{line}, {size}{within}; ahead on {ahead} of {len(differences)} seeds)."


def plot(results, epochs, title, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.2))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    x = np.arange(1, epochs + 1)
    for name, result in results.items():
        mean = result["accuracy"].mean(0)
        std = result["accuracy"].std(0)
        (line,) = axes.plot(x, mean, marker="o", markersize=3, label=name)
        axes.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    axes.set_xticks(x)
    axes.set_xlabel("epoch")
    axes.set_ylabel("test accuracy")
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    parser.add_argument("--epochs", type=int, default=10, help="supervised epochs")
    parser.add_argument("--steps", type=int, default=200, help="GAN pretraining")
    parser.add_argument("--labels", type=float, default=0.1, help="fraction used")
    parser.add_argument("--plot", default="digits_demo.png", help="where to save it")
    parser.add_argument(
        "--pictures",
        default="digits_demo_pictures",
        help="folder for what GAN pretraining learned (first seed): the "
        "generator's output each epoch and the first layer's filters; '' for none",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    data = load_data(args.labels, seed=0)
    print(
        f"Digits, small CNN: {len(data[0])} unlabelled training images, "
        f"{len(data[1])} labels ({args.labels:.0%}), {len(data[3])} test images; "
        f"{args.seeds} seed(s), {args.epochs} epochs, GAN pretraining "
        f"{args.steps} steps; Keras {keras.__version__} ({keras.backend.backend()})."
    )
    if anyinit is None:
        print("(anyinit is not installed: pip install anyinit to compare with it.)")
    runs = {name: [] for name in METHODS}
    PICTURES["directory"] = args.pictures or None
    for seed in range(args.seeds):
        data = load_data(args.labels, seed)
        for name in METHODS:
            accuracy, setup, seconds = run(name, data, args, seed)
            runs[name].append((accuracy, setup, seconds))
            print(
                f"  seed {seed}  {name:<20} set-up {setup:5.1f} s  "
                f"train {seconds:5.1f} s  test accuracy {accuracy[-1]:.3f}",
                flush=True,
            )
    results = {
        name: {
            "accuracy": np.array([r[0] for r in rows]),
            "setup_s": np.array([r[1] for r in rows]),
            "train_s": np.array([r[2] for r in rows]),
        }
        for name, rows in runs.items()
    }
    print(
        f"\nTest accuracy, mean ± std over {args.seeds} seed(s); "
        f"seconds per run (mean):"
    )
    print(table(results, args.epochs))
    print()
    for epoch in sorted({min(3, args.epochs), args.epochs}):
        print(verdict(results, epoch))
    plot(
        results,
        args.epochs,
        f"Digits, small CNN, {len(data[1])} labels ({args.labels:.0%}): "
        f"mean ± std over {args.seeds} seed(s)",
        args.plot,
    )
    print(
        f"\nPlot saved to {args.plot}"
        + (
            f"; pictures of the pretraining in {args.pictures}/"
            if args.pictures
            else ""
        )
        + ". "
        f"Wall time: {time.perf_counter() - started:.0f} s."
    )
    return results


if __name__ == "__main__":
    main()
