"""The next-step recipe: its per-step readout, and the check that it is fair.

Predicting step t+1 from the extractor's features at step t teaches the
extractor only if those features have not seen step t+1. So the recipe asks
for a sequence of features as long as the input, and checks on random
sequences that changing the later steps leaves the earlier features as they
were (unidirectional recurrent layers, causal convolutions and attention
with `use_causal_mask=True` pass; Bidirectional layers, "same" convolutions
and unmasked attention do not). The decoder is a readout at each step: a
Dense layer to the input's width, or to the vocabulary's logits.
"""

import math

import keras
import numpy as np
from keras import layers


def _refuse(extractor, why):
    return ValueError(
        f"recipe='next_step' predicts each step from the extractor's features "
        f"at the step before, but {extractor.name!r} {why}. Use a causal "
        f"extractor that returns its sequence (recurrent layers with "
        f"return_sequences=True and no Bidirectional, Conv1D with "
        f"padding='causal', MultiHeadAttention with use_causal_mask=True; "
        f"its weights transfer to a model whose last recurrent layer returns "
        f"only its last state), or recipe='autoencoder'."
    )


def check_sequence(extractor, input_shape, feature_shape):
    """Raises unless the features are one vector per input step."""
    if len(feature_shape) != 2 or len(input_shape) < 1:
        raise _refuse(
            extractor, f"outputs shape {feature_shape}, not (steps, features)"
        )
    if feature_shape[0] != input_shape[0] or input_shape[0] is None:
        raise _refuse(
            extractor,
            f"outputs {feature_shape[0]} steps for an input of "
            f"{input_shape[0]} (its input's first axis must be the steps, "
            f"fixed in number)",
        )


def check_causal(extractor, input_shape, form, seed=0):
    """Raises unless the features at each step ignore the later steps."""
    rng = np.random.default_rng(seed)
    steps = input_shape[0]
    cut = max(1, steps // 2)
    if form.tokens:
        low = 1 if form.mask_zero else 0
        first = rng.integers(low, form.vocabulary, (2, *input_shape))
        second = first.copy()
        second[:, cut:] = rng.integers(low, form.vocabulary, second[:, cut:].shape)
    else:
        first = rng.normal(size=(2, *input_shape)).astype("float32")
        second = first.copy()
        second[:, cut:] = rng.normal(size=second[:, cut:].shape)
    before = [
        np.asarray(keras.ops.convert_to_numpy(extractor(x, training=False)))[:, :cut]
        for x in (first, second)
    ]
    change = float(np.max(np.abs(before[0] - before[1])))
    scale = float(np.max(np.abs(before[0]))) + 1e-12
    if not math.isfinite(change) or change > 1e-4 * max(scale, 1.0):
        raise _refuse(
            extractor,
            f"is not causal: changing the steps from {cut} on changed its "
            f"features at earlier steps by up to {change:.3g}",
        )


def readout(extractor, input_shape, feature_shape, form):
    """The per-step decoder: features back to each step's input or logits."""
    features = keras.Input(tuple(feature_shape))
    if form.tokens:
        output = layers.Dense(form.vocabulary, name="next_step_logits")(features)
    else:
        width = int(np.prod(input_shape[1:], dtype=int)) if len(input_shape) > 1 else 1
        output = layers.Dense(width, name="next_step_readout")(features)
        output = layers.Reshape(tuple(input_shape))(output)
    return keras.Model(features, output, name=f"{extractor.name}_readout")
