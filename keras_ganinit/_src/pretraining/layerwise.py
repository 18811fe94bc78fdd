"""pretrain_layerwise: greedy block-by-block pretraining of a deep chain."""

from typing import Any

import keras
import numpy as np

from keras_ganinit._src.calibration.calibrate import calibrate
from keras_ganinit._src.graph.graph import nodes
from keras_ganinit._src.graph.layers import scale_variable, single_input_shape
from keras_ganinit._src.pretraining.gan_init_model import GanInitModel
from keras_ganinit._src.utils.checks import (
    Seed,
    check_seed,
    check_verbose,
    positive_int,
    seed_value,
)
from keras_ganinit._src.utils.data import take_samples


def pretrain_layerwise(
    extractor: keras.Model,
    x: Any,
    block_size: int = 4,
    steps: int = 100,
    batch_size: int = 64,
    seed: Seed = None,
    verbose: int | str = 0,
    **options: Any,
) -> list:
    """Pretrains a deep extractor one block at a time, each with its own mirror.

    The classic greedy layer-wise scheme of deep belief nets and stacked
    autoencoders, with `GanInitModel` as the block's trainer: the extractor
    is calibrated first (`keras_ganinit.calibrate`), so every block sees
    inputs of unit scale; then block 1 (its first `block_size` layers with a
    kernel, and the layers that follow them up to the next) is pretrained
    GanInitModel-style on the data, with its own mirror and discriminator;
    its output on the data becomes block 2's data, and so on. Earlier blocks
    are not changed while a later one trains. Each block ends calibrated on
    its own inputs, and the whole extractor is calibrated once more at the
    end. Adversarial gradients then reach every block, however deep the
    extractor: a `GanInitModel` of the whole extractor passes them back
    through every layer.

    The extractor must be a chain: a Sequential model, or a functional one in
    which each layer takes the previous layer's output (no branches, no
    nested models). It is changed in place.

    Args:
        extractor: the chain to pretrain.
        x: unlabeled samples: a NumPy array or tensor.
        block_size: how many layers with a kernel each block holds.
        steps: pretraining steps per block (`GanInitModel.fit(steps=...)`).
        batch_size: the batch size of each block's pretraining.
        seed: makes each block's mirror, discriminator and data order
            reproducible (block i uses seed + 10 * i); a
            `keras.random.SeedGenerator` gives one draw.
        verbose: 0 (silent), 1, 2 or "auto": each block's `fit` progress.
        **options: passed to each block's `GanInitModel` (for example
            `reconstruction_weight`, `adversarial_loss`).

    Returns:
        The `History` of each block's pretraining, in order.

    Example:

    >>> import keras, numpy as np, keras_ganinit
    >>> extractor = keras.Sequential([keras.Input((16,))] + [
    ...     keras.layers.Dense(16, activation="tanh") for _ in range(4)])
    >>> x = np.random.default_rng(0).normal(size=(256, 16)).astype("float32")
    >>> histories = keras_ganinit.pretrain_layerwise(extractor, x,
    ...     block_size=2, steps=2, seed=0)
    >>> len(histories)
    2
    """
    single_input_shape(extractor, "extractor")
    block_size = positive_int(block_size, "block_size", "kernel layers per block")
    steps = positive_int(steps, "steps", "pretraining steps per block")
    batch_size = positive_int(batch_size, "batch_size")
    seed = seed_value(check_seed(seed))
    for name in ("calibration", "recipe", "seed"):
        if name in options:
            raise ValueError(
                f"pretrain_layerwise() sets {name}= itself (each block is "
                f"calibrated, and seeded from seed=); leave it out of the "
                f"options."
            )
    verbose = check_verbose(verbose, "pretrain_layerwise()")
    data = take_samples(x, None, "pretrain_layerwise()", model=extractor)
    blocks = _blocks(_chain(extractor), block_size)

    def block_gan(index, block, shape):
        inputs = keras.Input(tuple(shape))
        model = keras.Sequential([inputs, *block], name=f"block_{index + 1}")
        return model, GanInitModel(
            model,
            seed=None if seed is None else seed + 10 * index,
            calibration=True,
            **options,
        )

    # The first block's GanInitModel checks every option before any weight
    # changes; a failure later puts every weight back as it was.
    first = block_gan(0, blocks[0], data.shape[1:])
    saved = [np.array(keras.ops.convert_to_numpy(v)) for v in extractor.variables]
    try:
        calibrate(extractor, data)
        histories = []
        for index, block in enumerate(blocks):
            model, gan = (
                first if index == 0 else block_gan(index, block, data.shape[1:])
            )
            gan.compile()
            histories.append(
                gan.fit(data, steps=steps, batch_size=batch_size, verbose=verbose)
            )
            data = np.asarray(model.predict(data, batch_size=256, verbose=0))
        calibrate(extractor, x)
    except BaseException:
        for variable, value in zip(extractor.variables, saved, strict=True):
            variable.assign(value)
        raise
    return histories


def _chain(extractor):
    """The extractor's layers in order, if each takes the previous one's output."""
    found, previous = [], None
    for operation, inputs, outputs in nodes(extractor):
        if isinstance(operation, keras.Model) or len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(
                f"pretrain_layerwise() needs a chain of layers, but "
                f"{operation.name!r} ({type(operation).__name__}) of "
                f"{extractor.name!r} is a nested model or takes or gives "
                f"several tensors. Pretrain this extractor whole with "
                f"GanInitModel, or flatten it into a keras.Sequential."
            )
        if previous is not None and inputs[0] is not previous:
            raise ValueError(
                f"pretrain_layerwise() needs a chain of layers, but "
                f"{operation.name!r} of {extractor.name!r} does not take the "
                f"previous layer's output (a branch or a skip connection). "
                f"Pretrain this extractor whole with GanInitModel."
            )
        found.append(operation)
        previous = outputs[0]
    return found


def _blocks(layers, block_size):
    """`layers` cut after every `block_size`-th kernel layer's followers."""
    blocks, current, kernels = [], [], 0
    for layer in layers:
        if scale_variable(layer) is not None:
            if kernels == block_size:
                blocks.append(current)
                current, kernels = [], 0
            kernels += 1
        current.append(layer)
    if current:
        blocks.append(current)
    if not blocks or not any(scale_variable(layer) is not None for layer in blocks[0]):
        raise ValueError(
            "pretrain_layerwise() found no layer with a kernel (Dense, Conv...) "
            "to pretrain."
        )
    return blocks
