"""keras_ganinit's implementation, grouped by concern.

The public names are re-exported in keras_ganinit/__init__.py;
docs/contributing.md maps the groups and the layering test enforces it.
"""
