"""Digits demo: GAN-pretrained initialization against HeNormal.

Pretrains a 64-128-32 ReLU feature extractor on scikit-learn's bundled digits
without labels (`GanInitModel`, in its default form and in the research paper's
form), saves each, then trains the same shallow classifier from each set of
pretrained kernels and biases (`GanPretrainedInitializer`) and from `HeNormal`,
with the same head, optimizer, data order and epochs, and prints the test
accuracies.

Run: python examples/digits_demo.py [--pretrain-epochs 30] [--epochs 5]
"""

import argparse
import os
import tempfile

import keras
import numpy as np
from keras import layers
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import keras_ganinit


def load_data(seed):
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    return train_test_split(
        x, digits.target, test_size=0.3, random_state=seed, stratify=digits.target
    )


def classifier(initializers, seed):
    """64-128-32-10 ReLU classifier; `initializers`: (kernel, bias) per hidden layer."""
    (kernel1, bias1), (kernel2, bias2) = initializers
    return keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(
                128,
                activation="relu",
                kernel_initializer=kernel1,
                bias_initializer=bias1,
            ),
            layers.Dense(
                32,
                activation="relu",
                kernel_initializer=kernel2,
                bias_initializer=bias2,
            ),
            layers.Dense(
                10,
                activation="softmax",
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
            ),
        ]
    )


def train(model, data, epochs, seed):
    x_train, x_test, y_train, y_test = data
    keras.utils.set_random_seed(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=64,
        validation_data=(x_test, y_test),
        verbose=0,
    )
    return history.history["val_accuracy"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrain-epochs", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    data = load_data(args.seed)
    x_train = data[0]

    results = {}
    for preset in ("default", "paper"):
        keras.utils.set_random_seed(args.seed)
        extractor = keras.Sequential(
            [
                keras.Input((64,)),
                layers.Dense(128, activation="relu", name="fe1"),
                layers.Dense(32, activation="relu", name="fe2"),
            ]
        )
        gan = keras_ganinit.GanInitModel(extractor, preset=preset)
        gan.compile()
        print(
            f"Pretraining (preset={preset!r}) on {len(x_train)} unlabeled digits, "
            f"{args.pretrain_epochs} epochs"
        )
        history = gan.fit(
            x_train, epochs=args.pretrain_epochs, batch_size=64, verbose=0
        )
        print(
            "  last epoch: "
            + ", ".join(f"{k}={v[-1]:.3f}" for k, v in history.history.items())
        )
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "pretrained.keras")
            gan.save(path)
            pretrained = classifier(
                [
                    (
                        keras_ganinit.GanPretrainedInitializer(source=path, layer=name),
                        keras_ganinit.GanPretrainedInitializer(
                            source=path, layer=name, variable="bias"
                        ),
                    )
                    for name in ("fe1", "fe2")
                ],
                args.seed,
            )
        results[f"GAN init ({preset})"] = train(
            pretrained, data, args.epochs, args.seed
        )

    baseline = classifier(
        [(keras.initializers.HeNormal(seed=args.seed + i), "zeros") for i in (1, 2)],
        args.seed,
    )

    results["HeNormal"] = train(baseline, data, args.epochs, args.seed)
    print("\nTest accuracy of the same 64-128-32-10 classifier, by epoch:")
    print(f"{'initializer':<26}" + "".join(f"{e + 1:>7}" for e in range(args.epochs)))
    for name, accuracies in results.items():
        print(f"{name:<26}" + "".join(f"{a:>7.3f}" for a in accuracies))
    print(
        "\nFinal: "
        + ", ".join(
            f"{name} {np.asarray(acc)[-1]:.3f}" for name, acc in results.items()
        )
        + " (one seed, one run: a demonstration, not a benchmark)."
    )
    return results


if __name__ == "__main__":
    main()
