"""The extractor's mirror ("extractor^T"), as a model you can start from."""

import keras

from keras_ganinit._src.graph.layers import redraw
from keras_ganinit._src.mirror import tied as _tied
from keras_ganinit._src.mirror.build import build_mirror
from keras_ganinit._src.utils.checks import Seed, check_seed, seed_value


def mirror(
    extractor: keras.Model,
    tied: bool = False,
    seed: Seed = None,
) -> keras.Model:
    """Builds the decoder that runs `extractor`'s computation backwards.

    This is the decoder `GanInitModel` builds when `decoder=None`: Dense back
    to the previous width, ConvND to ConvNDTranspose with the same kernel
    size, strides and padding, pooling to upsampling, Flatten to Reshape,
    merges to fan-outs and Concatenate to a split, with the output in the
    extractor input's exact shape (docs/architectures.md). Build it here to
    change it (add a layer, swap an activation, freeze a part) and pass the
    result as `GanInitModel(extractor, decoder=...)`.

    Args:
        extractor: a built functional or Sequential `keras.Model` with one
            input and one output.
        tied: whether the mirror reuses the extractor's kernels, transposed,
            and owns only its biases (Dense and ungrouped convolutions;
            other layers keep their own kernels, with a warning).
        seed: an integer that makes the mirror's initial weights
            reproducible; None draws them from Keras's global seed; a
            `keras.random.SeedGenerator` gives one integer draw.

    Returns:
        A `keras.Model` from the extractor's output shape to its input shape.

    Example:

    >>> import keras, keras_ganinit
    >>> extractor = keras.Sequential([keras.Input((8, 8, 1)),
    ...     keras.layers.Conv2D(4, 3, strides=2, padding="same", name="c1"),
    ...     keras.layers.Flatten(), keras.layers.Dense(6, name="fe")])
    >>> decoder = keras_ganinit.mirror(extractor, seed=0)
    >>> tuple(decoder.output.shape)
    (None, 8, 8, 1)
    >>> decoder = keras.Sequential([decoder, keras.layers.Activation("sigmoid")])
    >>> gan = keras_ganinit.GanInitModel(extractor, decoder=decoder)
    """
    seed = seed_value(check_seed(seed))
    decoder = build_mirror(extractor, tied=tied)
    _tied.attach(decoder, extractor)
    if seed is not None:
        redraw(decoder, seed)
    return decoder
