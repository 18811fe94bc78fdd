"""Wrote the files in tests/data with keras_ganinit 0.2.0 (before the _src/ move).

Kept to show how they were made; run from the repository root with 0.2.0
installed. test_saving.py loads them with the current code.
"""

import keras
import numpy as np
from keras import layers

import keras_ganinit


def main():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((64, 8, 8, 1)).astype("float32")
    extractor = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Flatten(name="flat"),
            layers.Dense(8, activation="relu", name="fe"),
        ],
        name="extractor",
    )
    discriminator = keras.Sequential(
        [keras.Input((8, 8, 1)), layers.Flatten(), layers.Dense(1)], name="disc"
    )
    gan = keras_ganinit.GanInitModel(
        extractor,
        discriminator=discriminator,
        decoder=keras_ganinit.mirror(extractor, tied=True, seed=1),
        seed=0,
    )
    gan.compile()
    gan.fit(x, steps=2, batch_size=16, verbose=0)
    gan.save("tests/data/gan_0_2_0.keras")
    np.save("tests/data/gan_0_2_0_input.npy", x[:4])
    np.save("tests/data/gan_0_2_0_output.npy", keras.ops.convert_to_numpy(gan(x[:4])))
    # A classifier built with the package's initializer, as 0.2.0 saved it.
    initializer = keras_ganinit.GanPretrainedInitializer(
        source="tests/data/gan_0_2_0.keras", layer="conv1"
    )
    classifier = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(
                4,
                3,
                padding="same",
                activation="relu",
                name="conv1",
                kernel_initializer=initializer,
            ),
            layers.Flatten(),
            layers.Dense(3, name="head"),
        ],
        name="classifier",
    )
    classifier.save("tests/data/classifier_0_2_0.keras")
    np.save(
        "tests/data/classifier_0_2_0_output.npy",
        keras.ops.convert_to_numpy(classifier(x[:4])),
    )


if __name__ == "__main__":
    main()
