"""Callbacks for `GanInitModel.fit`."""

from keras_ganinit._src.diagnostics.reconstructions import Reconstructions

__all__ = ["Reconstructions"]
