"""What does GAN init do to a network's activations, compared with He?

Builds the same small digits CNN twice (8x8 images, two Conv2D and a Dense
layer, ReLU): once with `HeNormal` kernels, once pretrained with
`GanInitModel` (its default budget and calibration), and prints both
networks' activation reports side by side on 512 held-out digits
(`keras_ganinit.activation_report`, `keras_ganinit.compare_reports`), then
each report's health check, and saves the comparison plot and the
pretrained first-layer filters.

Run: python examples/compare_activations.py [--out docs/diagnostics]
"""

import argparse
import os

import keras
import numpy as np
from keras import layers
from sklearn.datasets import load_digits

import keras_ganinit


def extractor(kernel_initializer):
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(
                16, 3, padding="same", activation="relu", name="conv1",
                kernel_initializer=kernel_initializer,
            ),
            layers.MaxPooling2D(2, name="pool"),
            layers.Conv2D(
                32, 3, padding="same", activation="relu", name="conv2",
                kernel_initializer=kernel_initializer,
            ),
            layers.Flatten(name="flat"),
            layers.Dense(
                64, activation="relu", name="fe",
                kernel_initializer=kernel_initializer,
            ),
        ],
        name="digits_cnn",
    )  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder for the PNGs")
    parser.add_argument("--steps", type=int, default=None, help="default: 200")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    x = (load_digits().data / 16.0).astype("float32").reshape(-1, 8, 8, 1)
    order = np.random.default_rng(args.seed).permutation(len(x))
    x_train, x_test = x[order[:1285]], x[order[1285:]]

    he = extractor(keras.initializers.HeNormal(seed=args.seed))
    gan = keras_ganinit.GanInitModel(extractor("glorot_uniform"))
    gan.compile()
    gan.fit(x_train, batch_size=64, steps=args.steps, verbose=0)

    reports = {
        "He": keras_ganinit.activation_report(he, x_test),
        "GAN init": keras_ganinit.activation_report(gan.extractor, x_test),
    }
    print(keras_ganinit.compare_reports(reports))
    for name, report in reports.items():
        problems = report.problems()
        verdict = f"{len(problems)} problems" if problems else "healthy"
        print(f"{name}: {verdict}")
        for _, row, reason in problems:
            print(f"  {row['layer']}: {reason}")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        keras_ganinit.compare_reports(reports).plot(
            os.path.join(args.out, "he_vs_gan.png")
        )
        keras_ganinit.plot_filters(
            gan.extractor, path=os.path.join(args.out, "gan_filters.png")
        )
    return reports


if __name__ == "__main__":
    main()
