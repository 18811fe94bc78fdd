"""Convolution kernels that are zero but for their centre tap.

>>> import keras, numpy as np
>>> kernel = at_centre_tap(np.eye(2), (3,), "float32")
>>> keras.ops.convert_to_numpy(kernel)[:, 0, 0].tolist()
[0.0, 1.0, 0.0]
"""

import numpy as np
from keras import ops


def at_centre_tap(matrix, kernel_size, dtype):
    """`matrix` (in, out) at index `k // 2` of every spatial axis, zeros elsewhere.

    With no spatial axes (a Dense kernel) it is `matrix` itself.
    """
    # A one-hot mask over the spatial axes, broadcast over the channels.
    mask = np.zeros(tuple(kernel_size) + (1, 1))
    mask[tuple(size // 2 for size in kernel_size)] = 1.0
    return ops.multiply(
        ops.convert_to_tensor(mask, dtype=dtype), ops.convert_to_tensor(matrix, dtype)
    )
