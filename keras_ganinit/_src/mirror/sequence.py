"""Mirrors of sequence layers: recurrent, attention and embedding layers.

A recurrent layer that returns its sequence is mirrored by a recurrent layer
of the same class and width, then a per-step Dense back to the previous
width; one that returns only its last state first repeats that state over
the steps (`RepeatVector`: the classic sequence autoencoder, Srivastava et
al. 2015, Dai & Le 2015). A Bidirectional wrapper mirrors to a Bidirectional
decoder with the same merge mode. Self-attention mirrors to self-attention
(same heads, key and value sizes, causal mask) whose output projection goes
back to the previous width. An Embedding that reads the token ids mirrors to
a Dense layer from its width to the vocabulary: the decoder ends in token
logits (`tied=True` reuses the embedding matrix, transposed, as language
models tie their input and output embeddings).

GroupQueryAttention, Attention and AdditiveAttention, whose output keeps the
query's width, mirror to a fresh copy of themselves. Each rule has the
signature of `build._RULES`' rules:
`(builder, layer, inputs, output, signal, raw) -> (signals back, raw)`.
"""

from keras import layers

from keras_ganinit._src.graph.layers import embeddings_in
from keras_ganinit._src.mirror.tied import TiedDense

# Recurrent layers with a mirror of their own class: their cells are Keras's.
RECURRENT = (layers.LSTM, layers.GRU, layers.SimpleRNN)
# Recurrent layers without one: convolutional, or a cell the mirror cannot copy.
UNMIRRORED_RECURRENT = (layers.ConvLSTM1D, layers.ConvLSTM2D, layers.ConvLSTM3D)
ATTENTION = (layers.MultiHeadAttention,)
# Attention layers whose output keeps the query's width: mirrored by a copy.
SAME_WIDTH_ATTENTION = (
    layers.GroupQueryAttention,
    layers.Attention,
    layers.AdditiveAttention,
)


def _shape(tensor):
    return tuple(tensor.shape)


def _recurrent_copy(builder, layer, name):
    """A fresh recurrent layer of `layer`'s class and width that returns
    its sequence (in the same direction), with its own initial weights."""
    options = {
        "activation": layer.activation,
        "use_bias": layer.use_bias,
        "return_sequences": True,
        "go_backwards": layer.go_backwards,
        "name": builder.name(name),
    }
    if isinstance(layer, (layers.LSTM, layers.GRU)):
        options["recurrent_activation"] = layer.recurrent_activation
    if isinstance(layer, layers.GRU):
        options["reset_after"] = layer.reset_after
    return type(layer)(layer.units, **options)


def _repeat(builder, layer, in_shape, out_shape):
    """RepeatVector over the input's steps, for a layer returning one state."""
    if len(out_shape) == 3:
        return []
    steps = in_shape[1]
    if steps is None:
        raise builder.cannot(
            layer,
            "it returns its last state of a sequence whose number of steps is "
            "not fixed, so the mirror cannot repeat that state over the steps. "
            "Give the extractor's Input a fixed number of steps (pad shorter "
            "sequences and mask them)",
        )
    return [
        layers.RepeatVector(steps, name=builder.name(f"{layer.name}_mirror_repeat"))
    ]


def _readout(builder, layer, in_shape):
    return layers.Dense(in_shape[-1], name=builder.name(f"{layer.name}_mirror_readout"))


def _check_single(builder, layer, inputs, output):
    """Raises unless one tensor (masks aside) comes in; the signals back."""
    data = builder.data_inputs(inputs, output)
    if len({id(t) for t in data}) != 1:
        raise builder.cannot(
            layer,
            f"it takes {len(data)} input tensors besides masks (an initial "
            f"state or a constant); the mirror knows one",
        )


def recurrent(builder, layer, inputs, output, signal, raw):
    """LSTM, GRU, SimpleRNN: recur back at the same width, then a readout."""
    _check_single(builder, layer, inputs, output)
    in_shape, out_shape = _shape(inputs[0]), _shape(output)
    if builder.tied:
        builder.untied.append(f"{layer.name!r} ({type(layer).__name__})")
    mirrored = [
        *_repeat(builder, layer, in_shape, out_shape),
        _recurrent_copy(builder, layer, f"{layer.name}_mirror"),
        _readout(builder, layer, in_shape),
    ]
    return _first_only(inputs, builder.apply(mirrored, signal)), False


def _first_only(inputs, back):
    """The signal back for the first input; masks and repeats get none."""
    return [back if i == 0 else None for i in range(len(inputs))]


def bidirectional(builder, layer, inputs, output, signal, raw):
    """Bidirectional(RNN): a Bidirectional decoder, same merge mode, readout."""
    _check_single(builder, layer, inputs, output)
    inner = layer.forward_layer
    if not isinstance(inner, RECURRENT):
        raise builder.cannot(
            layer, f"it wraps a {type(inner).__name__}, which has no mirror here"
        )
    in_shape, out_shape = _shape(inputs[0]), _shape(output)
    if builder.tied:
        builder.untied.append(f"{layer.name!r} (Bidirectional)")
    forward = _recurrent_copy(builder, inner, f"{layer.name}_mirror_forward")
    decoder = layers.Bidirectional(
        forward, merge_mode=layer.merge_mode, name=builder.name(f"{layer.name}_mirror")
    )
    mirrored = [
        *_repeat(builder, layer, in_shape, out_shape),
        decoder,
        _readout(builder, layer, in_shape),
    ]
    return _first_only(inputs, builder.apply(mirrored, signal)), False


def _self_attention(builder, layer, inputs, output):
    """The call's keyword arguments, once it is known to be self-attention."""
    if len({id(t) for t in builder.data_inputs(inputs, output)}) != 1:
        raise builder.cannot(
            layer,
            "it attends over other tensors than its query (cross-attention); "
            "the mirror knows self-attention, layer(h, h), with masks and "
            "use_causal_mask if you like",
        )
    kwargs = builder.keywords(output)
    if kwargs.get("return_attention_scores"):
        raise builder.cannot(layer, "it returns its attention scores too")
    return kwargs


def same_width_attention(builder, layer, inputs, output, signal, raw):
    """GroupQueryAttention, Attention, AdditiveAttention as self-attention:
    a fresh copy of the layer (its own weights), on the signal."""
    kwargs = _self_attention(builder, layer, inputs, output)
    if _shape(inputs[0]) != _shape(output):
        raise builder.cannot(layer, "its output does not keep its query's shape")
    if builder.tied:
        builder.untied.append(f"{layer.name!r} ({type(layer).__name__})")
    config = {
        k: v for k, v in layer.get_config().items() if not k.endswith("_initializer")
    }
    config["name"] = builder.name(f"{layer.name}_mirror")
    mirrored = type(layer).from_config(config)
    causal = {"use_causal_mask": bool(kwargs.get("use_causal_mask", False))}
    if isinstance(layer, layers.GroupQueryAttention):
        back = mirrored(signal, signal, **causal)
    else:
        back = mirrored([signal, signal], **causal)
    return _first_only(inputs, back), False


def attention(builder, layer, inputs, output, signal, raw):
    """Self-attention back to the query's width: same heads, sizes and mask."""
    kwargs = _self_attention(builder, layer, inputs, output)
    in_shape = _shape(inputs[0])
    if builder.tied:
        builder.untied.append(f"{layer.name!r} (MultiHeadAttention)")
    config = layer.get_config()
    mirrored = layers.MultiHeadAttention(
        num_heads=config["num_heads"],
        key_dim=config["key_dim"],
        value_dim=config["value_dim"],
        use_bias=config["use_bias"],
        output_shape=in_shape[-1],
        attention_axes=config["attention_axes"],
        name=builder.name(f"{layer.name}_mirror"),
    )
    back = mirrored(
        signal, signal, use_causal_mask=bool(kwargs.get("use_causal_mask", False))
    )
    return _first_only(inputs, back), False


def embedding(builder, layer, inputs, output, signal, raw):
    """Embedding: a Dense layer to the vocabulary, ending in token logits.

    A custom layer that reads the token ids and holds Embeddings (a
    token-and-position embedding) is mirrored alike, to logits over its
    largest table, untied.
    """
    if not builder.reads_input(inputs[0]):
        raise builder.cannot(
            layer,
            "it does not read the extractor's input; the mirror ends an "
            "Embedding in token logits, which only the input's token ids can "
            "be compared with",
        )
    name = builder.name(f"{layer.name}_mirror")
    vocabulary = max(e.input_dim for e in embeddings_in(layer))
    if builder.tied and isinstance(layer, layers.Embedding):
        core = TiedDense(vocabulary, tied_to=layer.name, name=name)
    else:
        if builder.tied:
            builder.untied.append(f"{layer.name!r} ({type(layer).__name__})")
        core = layers.Dense(vocabulary, name=name)
    builder.token_logits = True
    return _first_only(inputs, core(signal)), False


def is_token_reader(builder, layer, inputs, output):
    """Whether `layer` is a custom layer that embeds the extractor's ids."""
    return (
        len(inputs) == 1
        and builder.reads_input(inputs[0])
        and bool(embeddings_in(layer))
        and len(output.shape) == len(inputs[0].shape) + 1
    )


def causal_crop(builder, layer, rank):
    """The Cropping1D that undoes a causal convolution's left padding.

    A causal Conv1D pads `(kernel - 1) * dilation` steps on the left, then
    convolves without padding; its mirror is the "valid" transposed
    convolution, then this crop of the padded steps on the left.
    """
    left = (layer.kernel_size[0] - 1) * layer.dilation_rate[0]
    if not left:
        return []
    return [layers.Cropping1D((left, 0), name=builder.name(f"{layer.name}_crop"))]


def refused(builder, layer, inputs, output, signal, raw):
    raise builder.cannot(
        layer,
        "it has no mirror here: convolutional recurrent layers have no rule yet",
    )


RULES = (
    (UNMIRRORED_RECURRENT, refused),
    (RECURRENT, recurrent),
    (layers.Bidirectional, bidirectional),
    (ATTENTION, attention),
    (SAME_WIDTH_ATTENTION, same_width_attention),
    (layers.Embedding, embedding),
)
