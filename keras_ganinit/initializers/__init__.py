"""Initializers for Keras layers that need no data: `DeltaOrthogonal`, `LooksLinear`."""

from keras_ganinit._src.initializers.delta_orthogonal import DeltaOrthogonal
from keras_ganinit._src.initializers.looks_linear import LooksLinear

__all__ = ["DeltaOrthogonal", "LooksLinear"]
