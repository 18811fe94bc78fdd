"""The one place that starts a matplotlib figure (headless, no pyplot state)."""


def new_figure(who, **kwargs):
    """A matplotlib `Figure` drawn by Agg; `who` names the caller in errors."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            f"{who} draws with matplotlib, which is not installed. Install it "
            f"with `pip install matplotlib` (or `pip install -e '.[plots]'` in "
            f"a checkout of keras_ganinit)."
        ) from error
    figure = Figure(layout="constrained", **kwargs)
    FigureCanvasAgg(figure)
    return figure


# Layer plots: one row per layer, down the vertical axis, so that a model of
# any depth keeps its names readable; the figure grows with the layer count.
INCHES_PER_LAYER = 0.2
FONT_SIZE = 8


def layer_panels(who, names, panels, marked=(), title=None):
    """A figure with `panels` side-by-side axes sharing one row per layer.

    Layers run top to bottom in the order given; the names label the rows of
    the first panel, and the names in `marked` are drawn in red (the layers
    a report finds unhealthy).

    Returns:
        (figure, axes, y): the Figure, the list of axes, and each layer's
        row position.
    """
    import numpy as np

    height = max(3.0, INCHES_PER_LAYER * len(names) + 1.5)
    figure = new_figure(who, figsize=(4.0 + 3.0 * panels, height))
    axes = list(figure.subplots(1, panels, sharey=True, squeeze=False)[0])
    y = np.arange(len(names))
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(names, fontsize=FONT_SIZE)
    axes[0].set_ylim(len(names) - 0.5, -0.5)  # the first layer on top
    marked = set(marked)
    for label, name in zip(axes[0].get_yticklabels(), names, strict=True):
        if name in marked:
            label.set_color("tab:red")
            label.set_fontweight("bold")
    for axis in axes:
        axis.grid(axis="x", alpha=0.3)
        # The scale at the top and the bottom: a tall figure reads from both.
        axis.tick_params(axis="x", labelsize=FONT_SIZE, top=True, labeltop=True)
    if title:
        figure.suptitle(title, fontsize=FONT_SIZE + 2)
    return figure, axes, y


def positive(values):
    """`values` with zeros and non-finite values as NaN (gaps on a log axis)."""
    import numpy as np

    values = np.asarray(values, dtype="float64")
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)
