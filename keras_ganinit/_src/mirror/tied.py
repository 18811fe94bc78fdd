"""Mirror layers that reuse the extractor's kernels, transposed: literally extractor^T.

A tied mirror layer owns only its bias. Its kernel is the kernel of the
extractor layer it mirrors (`tied_to`, a layer name), read at every call, so
one kernel is trained by both the encoding and the decoding path. A Dense
layer's kernel is transposed; a ConvND kernel `(*k, in, out)` already has the
shape ConvNDTranspose expects with `filters=in`, and the transposed
convolution with it is the adjoint of the convolution.

The tie is by name, not saved as a variable: `attach` sets each tied layer's
source once the extractor is known (when GanInitModel is built or loaded).
"""

import keras
from keras import layers, ops

from keras_ganinit._src.graph.layers import leaf_layers
from keras_ganinit._src.mirror.dilated import ExplicitDilation, per_rank


class _Tied:
    """What every tied mirror layer shares: the source layer and its kernel."""

    def _init_tie(self, tied_to):
        if not isinstance(tied_to, str) or not tied_to:
            raise ValueError(
                f"tied_to must be the name of the extractor layer whose kernel "
                f"this mirror layer reuses, but got {tied_to!r}."
            )
        self.tied_to = tied_to
        self.attach(None)

    def attach(self, source):
        # Not tracked by Keras: the source's kernel belongs to the extractor,
        # and must not be counted (or saved) as this layer's variable too.
        object.__setattr__(self, "_source", source)

    @property
    def kernel(self):
        if self._source is None:
            raise ValueError(
                f"The tied mirror layer {self.name!r} has no kernel of its own: it "
                f"reuses the kernel of extractor layer {self.tied_to!r}, which is "
                f"attached when a GanInitModel is built with it or "
                f"loaded. Use it inside a GanInitModel "
                f"(decoder=keras_ganinit.mirror(extractor, tied=True))."
            )
        return self._source_kernel()

    def compute_output_spec(self, inputs, *args, **kwargs):
        # Symbolic calls (building or loading the decoder) need no kernel.
        return keras.KerasTensor(
            self.compute_output_shape(inputs.shape), dtype=self.compute_dtype
        )

    def get_config(self):
        return {**super().get_config(), "tied_to": self.tied_to}


@keras.saving.register_keras_serializable(package="keras_ganinit")
class TiedDense(_Tied, layers.Layer):
    """`x @ source.kernel^T + bias`: the mirror of a Dense layer."""

    def __init__(self, units, tied_to, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self._init_tie(tied_to)
        self.units = int(units)
        self.use_bias = use_bias

    def build(self, input_shape):
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,), initializer="zeros", name="bias"
            )
        self.built = True

    def _source_kernel(self):
        return ops.transpose(kernel_of(self._source))

    def call(self, inputs):
        outputs = ops.matmul(inputs, ops.cast(self.kernel, inputs.dtype))
        return ops.add(outputs, self.bias) if self.use_bias else outputs

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias}


def _tied_transpose(base):
    class TiedConvTranspose(_Tied, ExplicitDilation, base):
        def __init__(self, *args, tied_to, **kwargs):
            super().__init__(*args, **kwargs)
            self._init_tie(tied_to)

        def build(self, input_shape):
            if self.use_bias:
                self.bias = self.add_weight(
                    shape=(self.filters,), initializer="zeros", name="bias"
                )
            else:
                self.bias = None
            self.built = True

        def _source_kernel(self):
            return self._source.kernel

    name = f"Tied{base.__name__}"
    TiedConvTranspose.__name__ = TiedConvTranspose.__qualname__ = name
    TiedConvTranspose.__doc__ = (
        f"A `{base.__name__}` whose kernel is the mirrored Conv layer's kernel."
    )
    return keras.saving.register_keras_serializable(package="keras_ganinit")(
        TiedConvTranspose
    )


TIED_CONV_TRANSPOSE = per_rank(_tied_transpose)
TiedConv1DTranspose, TiedConv2DTranspose, TiedConv3DTranspose = (
    TIED_CONV_TRANSPOSE.values()
)


def kernel_of(layer):
    """What a tied layer reuses: a kernel, or an Embedding's matrix
    `(vocabulary, width)`, which transposed maps the width back to token
    logits as a Dense kernel transposed maps it back to the input's width."""
    if isinstance(layer, layers.Embedding):
        return layer.embeddings
    return layer.kernel


def tied_layers(decoder):
    """The tied mirror layers of `decoder`, in order."""
    return [layer for layer in leaf_layers(decoder) if isinstance(layer, _Tied)]


def attach(decoder, extractor):
    """Points every tied layer of `decoder` at its extractor layer; returns them."""
    by_name = {layer.name: layer for layer in leaf_layers(extractor)}
    tied = tied_layers(decoder)
    for layer in tied:
        source = by_name.get(layer.tied_to)
        if source is None or not (
            hasattr(source, "kernel") or isinstance(source, layers.Embedding)
        ):
            raise ValueError(
                f"The decoder's tied layer {layer.name!r} reuses the kernel of "
                f"extractor layer {layer.tied_to!r}, but the extractor "
                f"{extractor.name!r} has no layer of that name with a kernel. "
                f"Load the GanInitModel with the extractor it was saved with."
            )
        layer.attach(source)
    return tied
