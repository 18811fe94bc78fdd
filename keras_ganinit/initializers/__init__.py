"""Initializers for Keras layers that need no data: `DeltaOrthogonal`."""

from keras_ganinit._src.initializers.delta_orthogonal import DeltaOrthogonal

__all__ = ["DeltaOrthogonal"]
