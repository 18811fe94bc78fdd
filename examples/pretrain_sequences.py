"""Pretrain a recurrent extractor on unlabelled sequences, then classify.

The digits bundled with scikit-learn, read row by row (8 steps of 8 pixels),
stand in for a pool of unlabelled sequences. An LSTM extractor is pretrained
with a `GanInitModel` recipe (the GAN by default; `--recipe autoencoder` or
`--recipe next_step`), saved to a `.keras` file, and handed to a classifier
with `with_pretrained_initializers`; the classifier is then fine-tuned on a
few labels per class, beside the same classifier started from calibration
alone. Pictures of real and reconstructed rows go to `--pictures`.

    python examples/pretrain_sequences.py --recipe next_step --labels 5
"""

import argparse
import os

import keras
import numpy as np
from keras import layers
from sklearn.datasets import load_digits

import keras_ganinit
from keras_ganinit.callbacks import Reconstructions


def extractor(sequences=False):
    """LSTM(32) over 8 steps of 8 pixels: its last state, or every step's."""
    inputs = keras.Input((8, 8))
    features = layers.LSTM(32, return_sequences=sequences, name="lstm")(inputs)
    return keras.Model(inputs, features, name="extractor")


def classifier(start):
    """`start`'s layers, then a softmax head."""
    outputs = layers.Dense(10, activation="softmax", name="head")(start.output)
    model = keras.Model(start.input, outputs)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="default",
                        choices=["default", "autoencoder", "next_step"])  # fmt: skip
    parser.add_argument("--labels", type=int, default=5, help="per class")
    parser.add_argument("--steps", type=int, default=300, help="pretraining")
    parser.add_argument("--epochs", type=int, default=30, help="fine-tuning")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="pretrained_sequences.keras")
    parser.add_argument("--pictures", default="sequence_pictures")
    args = parser.parse_args(argv)

    x, y = load_digits(return_X_y=True)
    x = ((x - x.mean()) / x.std()).reshape(-1, 8, 8).astype("float32")
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(x))
    pool, test = order[:1400], order[1400:]
    labelled = np.concatenate(
        [pool[y[pool] == c][: args.labels] for c in range(10)]
    )  # the few labels; the whole pool is the unlabelled data

    keras.utils.set_random_seed(args.seed)
    start = extractor(sequences=args.recipe == "next_step")
    gan = keras_ganinit.GanInitModel(start, recipe=args.recipe, seed=args.seed)
    gan.compile()
    pictures = Reconstructions(x[test[:4]], args.pictures)
    gan.fit(x[pool], steps=args.steps, batch_size=64, verbose=0,
            callbacks=[pictures])  # fmt: skip
    gan.save(args.out)

    results = {}
    for name in ("calibration alone", f"pretrained ({args.recipe})"):
        keras.utils.set_random_seed(args.seed)
        fresh = extractor()
        if name == "calibration alone":
            keras_ganinit.calibrate(fresh, x[pool][:512])
        else:
            fresh = keras_ganinit.with_pretrained_initializers(fresh, args.out)
        model = classifier(fresh)
        model.fit(x[labelled], y[labelled], epochs=args.epochs, batch_size=32,
                  verbose=0)  # fmt: skip
        results[name] = model.evaluate(x[test], y[test], verbose=0)[1]
        print(f"{name:28s} test accuracy {results[name]:.3f}")
    print(f"pictures: {os.path.abspath(args.pictures)}")
    return results


if __name__ == "__main__":
    main()
