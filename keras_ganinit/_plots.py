"""The one place that starts a matplotlib figure (headless, no pyplot state)."""


def new_figure(who, **kwargs):
    """A matplotlib `Figure` drawn by Agg; `who` names the caller in errors."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            f"{who} draws with matplotlib, which is not installed. Install it "
            f"with `pip install matplotlib` (or `pip install "
            f"keras-ganinit[plots]`)."
        ) from error
    figure = Figure(layout="constrained", **kwargs)
    FigureCanvasAgg(figure)
    return figure
