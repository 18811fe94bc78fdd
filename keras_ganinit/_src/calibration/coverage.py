"""Which layers with weights `calibrate` leaves as they were, and why.

`calibrate` rescales the kernels of Dense and convolution layers, has a
rule for recurrent, attention, embedding and time-distributed layers
(layer_rules.py), and refreshes BatchNormalization statistics. Every other
layer with weights is named in its report with the reason, from the table
below, so that nothing is skipped silently.
"""

import keras

from keras_ganinit._src.graph.layers import leaf_layers

# (layer classes, why they are left as they were), first match wins. The
# classes listed first are those calibrate has a rule for: they are left
# only where the rule cannot read them.
REASONS = (
    (
        (keras.layers.RNN, keras.layers.Bidirectional),
        "its cell is not a SimpleRNN, LSTM, GRU or ConvLSTM cell, whose gate "
        "layout calibrate() knows; its weights keep their initializers",
    ),
    (
        (keras.layers.Embedding,),
        "its table is quantized or LoRA-adapted, so it cannot be rescaled in "
        "place; its weights keep their initializers",
    ),
    (
        (keras.layers.TimeDistributed,),
        "the layer it wraps has no kernel or rule calibrate() knows",
    ),
    (
        (
            keras.layers.GroupQueryAttention,
            keras.layers.Attention,
            keras.layers.AdditiveAttention,
        ),
        "calibrate() has rules for MultiHeadAttention only; this attention "
        "layer's weights keep their initializers",
    ),
    (
        (
            keras.layers.LayerNormalization,
            keras.layers.GroupNormalization,
            keras.layers.UnitNormalization,
        ),
        "a normalization layer sets its own output scale from its input",
    ),
)


def left_as_they_were(model, touched):
    """[{layer, class, why}] for the leaf layers with weights not in `touched`.

    `touched`: the layers calibrate changes (its kernel layers, excluded ones
    aside, which the report already lists). BatchNormalization counts as
    touched: calibrate sets its moving statistics.
    """
    touched = {id(layer) for layer in touched}
    found = []
    for layer in leaf_layers(model):
        if id(layer) in touched or not layer.weights:
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            continue
        why = next(
            (reason for classes, reason in REASONS if isinstance(layer, classes)),
            f"calibrate() has no rule for {type(layer).__name__} layers: the "
            f"weights keep their initializers",
        )
        found.append({"layer": layer.name, "class": type(layer).__name__, "why": why})
    return found
