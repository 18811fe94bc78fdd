"""Small layers the automatic mirror needs and Keras does not have.

`MirrorSlice` undoes a `Concatenate` (one slice per input branch);
`MirrorReduce` sends a signal back into a branch of smaller, broadcast shape
(a squeeze-and-excite gate's `(1, 1, channels)`) by averaging over the axes
that branch was broadcast along.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_ganinit")
class MirrorSlice(keras.layers.Layer):
    """`inputs[..., start:stop, ...]` along `axis`: one input of a Concatenate."""

    def __init__(self, axis, start, stop, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.start, self.stop = int(axis), int(start), int(stop)

    def call(self, inputs):
        axis = self.axis % len(inputs.shape)
        index = [slice(None)] * len(inputs.shape)
        index[axis] = slice(self.start, self.stop)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[self.axis % len(shape)] = self.stop - self.start
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "start": self.start,
            "stop": self.stop,
        }


@keras.saving.register_keras_serializable(package="keras_ganinit")
class MirrorReduce(keras.layers.Layer):
    """Averages over the axes where `target_shape` (no batch axis) is 1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def call(self, inputs):
        rank = len(inputs.shape) - 1
        extra = rank - len(self.target_shape)
        if extra > 0:
            inputs = ops.mean(inputs, axis=tuple(range(1, 1 + extra)))
        axes = tuple(
            1 + i
            for i, size in enumerate(self.target_shape)
            if size == 1 and inputs.shape[1 + i] != 1
        )
        return ops.mean(inputs, axis=axes, keepdims=True) if axes else inputs

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}
