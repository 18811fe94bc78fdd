"""Callbacks for `GanInitModel.fit`."""

from keras_ganinit.callbacks.reconstructions import Reconstructions

__all__ = ["Reconstructions"]
