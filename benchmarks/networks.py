"""The studies' feature extractors, by name, on flat inputs.

`extractor(network, shape, activation, initializer, depth)` returns a
Sequential from flat inputs (`prod(shape)` features); the convolutional
ones reshape to `shape` first (Conv2D for images, Conv1D for signals):

- "mlp": Dense(64) - Dense(32);
- "wide-mlp": Dense(128) - Dense(128);
- "cnn": Conv(16, 3 for images, 5 for signals, same) - MaxPool(2) -
  Conv(32, 3) - Flatten;
- "deepmlp": `depth` Dense(64) (12 by default);
- "deepcnn": `depth` Conv(16, 3, same) (10 by default), then Flatten;
- "gapcnn": `depth` Conv(16, 3, same), then global average pooling.

Every kernel comes from `initializer()`, biases are zero, layers are named
h1, h2, ... so that weights can be handed over by name.

>>> extractor("cnn", (8, 8, 1)).outputs[0].shape
(None, 288)
"""

import keras
import numpy as np
from keras import layers

DEPTH = {"deepmlp": 12, "deepcnn": 10, "gapcnn": 8}


def extractor(network, shape, activation="relu", initializer=None, depth=None):
    """The extractor `network` for samples of `shape` (see the module)."""
    make = initializer or keras.initializers.GlorotUniform
    depth = depth or DEPTH.get(network)
    two_d = len(shape) == 3
    conv = layers.Conv2D if two_d else layers.Conv1D
    names = (f"h{i}" for i in range(1, 10_000))

    def dense(width):
        return layers.Dense(
            width, activation, kernel_initializer=make(), name=next(names)
        )

    def convolution(channels, kernel, padding="same"):
        return conv(
            channels, kernel, padding=padding, activation=activation,
            kernel_initializer=make(), name=next(names),
        )  # fmt: skip

    if network == "mlp":
        hidden = [dense(64), dense(32)]
    elif network == "wide-mlp":
        hidden = [dense(128), dense(128)]
    elif network == "deepmlp":
        hidden = [dense(64) for _ in range(depth)]
    elif network == "cnn":
        pool = layers.MaxPooling2D if two_d else layers.MaxPooling1D
        hidden = [
            layers.Reshape(shape),
            convolution(16, 3 if two_d else 5),
            pool(2),
            convolution(32, 3, "valid"),
            layers.Flatten(),
        ]
    elif network in ("deepcnn", "gapcnn"):
        end = (
            layers.Flatten()
            if network == "deepcnn"
            else layers.GlobalAveragePooling1D()
        )
        hidden = [
            layers.Reshape(shape),
            *(convolution(16, 3) for _ in range(depth)),
            end,
        ]
    else:
        raise ValueError(f"unknown network {network!r}")
    inputs = keras.Input((int(np.prod(shape)),))
    return keras.Sequential([inputs, *hidden], name="extractor")
