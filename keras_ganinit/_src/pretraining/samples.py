"""What the generator's output is compared with: real values, or token ids.

An extractor whose input is read by an `Embedding` takes token ids, and its
mirror ends in token logits (`mirror/sequence.py`). The reconstruction is
then the cross-entropy of the logits against the ids (what a sequence
autoencoder or a language model trains), and the discriminator judges
distributions over the vocabulary: the one-hot ids of real sequences
against the softmax of the generated logits, the differentiable relaxation
that lets its gradient reach the generator (`Tokens`). Real-valued inputs
are compared as they are (`Signals`: mean absolute error, the generator's
output as the discriminator's fake sample).

Padded steps are left out of both: where a `Masking` layer (or an
`Embedding(mask_zero=True)`) reads the input, the reconstruction averages
over the steps it keeps, and the discriminator's fake sample takes the real
sample's values at the padded steps, so padding tells it nothing.

Each form is chosen once per `GanInitModel` from its extractor
(`samples_of`), and every backend's train step uses it through `keras.ops`.
"""

from keras import layers, ops

from keras_ganinit._src.graph.graph import functional_of, nodes
from keras_ganinit._src.graph.layers import embeddings_in


def _masked_mean(values, mask):
    """The mean of `values` (batch, steps, ...) over the steps `mask` keeps."""
    if mask is None:
        return ops.mean(values)
    weights = ops.cast(mask, values.dtype)
    while len(weights.shape) < len(values.shape):
        weights = ops.expand_dims(weights, -1)
    weights = ops.broadcast_to(weights, ops.shape(values))
    return ops.sum(values * weights) / ops.maximum(ops.sum(weights), 1.0)


class Signals:
    """Real-valued samples, compared by mean absolute error.

    Args:
        mask_value: the value of a `Masking` layer that reads the input, or
            None.
    """

    tokens = False

    def __init__(self, mask_value=None):
        self.mask_value = mask_value

    def mask(self, x):
        """(batch, steps) booleans: the steps that are not padding, or None."""
        if self.mask_value is None or len(x.shape) < 3:
            return None
        return ops.any(ops.not_equal(x, self.mask_value), axis=-1)

    def real(self, x, dtype):
        """A real sample as the discriminator sees it."""
        return ops.cast(x, dtype)

    def fake(self, generated, x, mask):
        """A generated sample as the discriminator sees it."""
        if mask is None:
            return generated
        keep = ops.expand_dims(mask, -1)
        return ops.where(keep, generated, ops.cast(x, generated.dtype))

    def reconstruction(self, generated, target, mask):
        """The mean absolute error over the kept steps."""
        return _masked_mean(
            ops.abs(generated - ops.cast(target, generated.dtype)), mask
        )


class Tokens:
    """Token ids, compared as logits over a vocabulary.

    Args:
        vocabulary: the Embedding's `input_dim`.
        mask_zero: whether id 0 is padding (`Embedding(mask_zero=True)`).
    """

    tokens = True

    def __init__(self, vocabulary, mask_zero=False):
        self.vocabulary = int(vocabulary)
        self.mask_zero = bool(mask_zero)

    def mask(self, x):
        if not self.mask_zero:
            return None
        return ops.not_equal(x, 0)

    def real(self, x, dtype):
        return ops.one_hot(ops.cast(x, "int32"), self.vocabulary, dtype=dtype)

    def fake(self, generated, x, mask):
        probabilities = ops.softmax(generated, axis=-1)
        if mask is None:
            return probabilities
        keep = ops.expand_dims(mask, -1)
        return ops.where(keep, probabilities, self.real(x, generated.dtype))

    def reconstruction(self, generated, target, mask):
        """The cross-entropy of the logits against the ids, over kept steps."""
        losses = ops.sparse_categorical_crossentropy(
            ops.cast(target, "int32"), generated, from_logits=True
        )
        return _masked_mean(losses, mask)

    def shape(self, input_shape):
        """The shape of a sample as the discriminator sees it."""
        return (*input_shape, self.vocabulary)


def _readers(model):
    """The layers that read `model`'s input directly."""
    if functional_of(model) is None:
        return [model.layers[0]] if model.layers else []
    first = id(model.inputs[0])
    found = []
    for operation, inputs, _ in nodes(model):
        if any(id(t) == first for t in inputs):
            found.append(operation)
    return found


def samples_of(extractor):
    """`Tokens` when an `Embedding` (or a layer holding Embeddings, such as a
    token-and-position embedding) reads the extractor's input, else
    `Signals`."""
    readers = _readers(extractor)
    embeddings = [e for r in readers for e in embeddings_in(r)]
    if embeddings:
        # The largest table covers every id (a token-and-position layer's
        # position table is smaller than the vocabulary, or covers it too).
        return Tokens(
            max(e.input_dim for e in embeddings), any(e.mask_zero for e in embeddings)
        )
    masking = [r for r in readers if isinstance(r, layers.Masking)]
    return Signals(masking[0].mask_value if masking else None)


def aligned(target, generated, x, mask):
    """(prediction, what it is compared with, mask) for the recipe's target.

    "input": the generator's output against its input; "next_step": its
    output at each step against the input's next step.
    """
    if target == "next_step":
        return (
            generated[:, :-1],
            x[:, 1:],
            None if mask is None else mask[:, 1:],
        )
    return generated, x, mask
