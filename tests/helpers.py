"""Shared test helpers: small extractors and comparisons (fixtures: conftest)."""

import keras
import numpy as np
from keras import layers

# A few steps of a large backbone: TensorFlow's tracing costs more than running
# them eagerly; JAX's eager mode compiles every op, which costs more than one
# jit of the whole step (MobileNetV2 on 2 busy CPUs: 346 s eager, 94 s jit).
EAGER_IS_FASTER = keras.backend.backend() == "tensorflow"


def dense_extractor():
    return keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(128, activation="relu", name="fe1"),
            layers.Dense(32, activation="relu", name="fe2"),
        ],
        name="extractor",
    )


def conv_extractor():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Conv2D(16, 3, activation="relu", name="conv2"),
            layers.Flatten(name="flat"),
            layers.Dense(16, activation="relu", name="fe"),
        ],
        name="conv_extractor",
    )


def same(a, b):
    return np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
