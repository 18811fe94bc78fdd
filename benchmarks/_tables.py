"""The benchmarks' table writers: the package's own, and two cell formatters.

Every benchmark script that writes a table writes it with `markdown_table`
(or, to print rows as they come, `markdown_header` then `markdown_row`),
which live in keras_ganinit/_src/utils/tables.py with the text tables the
package prints.

    >>> print(markdown_table(["method", "acc"], [["He", mean_std(0.9, 0.01)]]))
    | method | acc |
    |---|---|
    | He | 0.900 ± 0.010 |
"""

from keras_ganinit._src.utils.tables import (  # noqa: F401 (re-exported)
    markdown_header,
    markdown_row,
    markdown_table,
)


def mean_std(mean, std, digits=3):
    """A mean over seeds and its standard deviation: "0.912 ± 0.004"."""
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def number(value, spec, missing="-"):
    """`value` formatted with `spec` (".1f", ".3g"), or `missing` if None."""
    return missing if value is None else format(value, spec)
