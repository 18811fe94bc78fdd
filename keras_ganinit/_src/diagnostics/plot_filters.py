"""A picture of a convolution's filters: what the first layer learned."""

import math
import os
from typing import Any

import keras
import numpy as np

from keras_ganinit._src.graph.layers import CONVOLUTIONS, extractor_of, leaf_layers
from keras_ganinit._src.utils import plots as _plots


def plot_filters(
    model: keras.Model,
    layer: str | None = None,
    path: "str | os.PathLike | None" = None,
    max_filters: int = 64,
) -> Any:
    """Draws a Conv1D or Conv2D layer's filters as a grid; returns the figure.

    With `layer=None`, the first Conv1D or Conv2D layer of `model` (in the
    order its layers run, nested models included). A `GanInitModel` is
    drawn from its extractor. Each tile is one output filter, scaled on its
    own from its smallest to its largest weight (so the shape of a filter
    shows, not its size; calibration rescales them all):

    - Conv2D, kernel `(kh, kw, in, out)`: with 3 input channels, an RGB tile;
      otherwise the input channels' mean, in grayscale.
    - Conv1D, kernel `(k, in, out)`: a line plot of the taps, one line per
      input channel (up to 3).

    Args:
        model: a built Keras model, or a `GanInitModel`.
        layer: the name of the convolution to draw; None for the first.
        path: a PNG file to write; None writes nothing.
        max_filters: draw at most this many filters (the first ones).

    Returns:
        The `matplotlib.figure.Figure`, one axes per filter drawn.

    Example:

    >>> import keras, keras_ganinit
    >>> model = keras.Sequential([keras.Input((8, 8, 1)),
    ...     keras.layers.Conv2D(6, 3, name="conv1"), keras.layers.Flatten()])
    >>> figure = keras_ganinit.plot_filters(model)
    >>> len(figure.axes)
    6
    """
    if isinstance(max_filters, bool) or not isinstance(max_filters, int):
        raise TypeError(f"max_filters must be an integer, but got {max_filters!r}.")
    if max_filters < 1:
        raise ValueError(f"max_filters must be >= 1, but got {max_filters}.")
    model = extractor_of(model)
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"plot_filters() takes a Keras model or a GanInitModel, but got "
            f"{type(model).__name__}."
        )
    conv = _choose(model, layer)
    kernel = np.asarray(keras.ops.convert_to_numpy(conv.kernel), dtype="float64")
    count = min(kernel.shape[-1], max_filters)
    columns = min(count, 8)
    rows = math.ceil(count / columns)
    figure = _figure(figsize=(1.2 * columns + 0.4, 1.2 * rows + 0.6))
    for index in range(count):
        axis = figure.add_subplot(rows, columns, index + 1)
        weights = kernel[..., index]
        if kernel.ndim == 4:
            tile = weights if weights.shape[-1] == 3 else weights.mean(axis=-1)
            low, high = tile.min(), tile.max()
            tile = (tile - low) / (high - low) if high > low else tile * 0 + 0.5
            axis.imshow(tile, cmap=None if tile.ndim == 3 else "gray", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
        else:
            for channel in range(min(weights.shape[-1], 3)):
                axis.plot(weights[:, channel], linewidth=1)
            axis.set_xticks([])
            axis.tick_params(labelsize=6)
    figure.suptitle(f"{conv.name}: {count} of {kernel.shape[-1]} filters")
    if path is not None:
        figure.savefig(os.fspath(path), dpi=100)
    return figure


def _choose(model, name):
    convs = [layer for layer in leaf_layers(model) if isinstance(layer, CONVOLUTIONS)]
    names = [layer.name for layer in convs]
    if name is None:
        if not convs:
            raise ValueError(
                f"Model {model.name!r} has no Conv1D or Conv2D layer, so there "
                f"are no filters to draw. plot_filters() draws convolutional "
                f"extractors; for a Dense one, look at "
                f"keras_ganinit.activation_report instead."
            )
        return convs[0]
    for layer in leaf_layers(model):
        if layer.name == name:
            if isinstance(layer, CONVOLUTIONS):
                return layer
            raise ValueError(
                f"Layer {name!r} of model {model.name!r} is a "
                f"{type(layer).__name__}, not a Conv1D or Conv2D layer. Its "
                f"convolutions are: {names or 'none'}."
            )
    raise ValueError(
        f"Model {model.name!r} has no layer named {name!r}. Its Conv1D and "
        f"Conv2D layers are: {names or 'none'}."
    )


def _figure(**kwargs):
    return _plots.new_figure("plot_filters()", **kwargs)
