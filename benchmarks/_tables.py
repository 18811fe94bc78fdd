"""The one Markdown table writer of the benchmarks, and its cell formatters.

Every benchmark script that writes a table writes it with `markdown_table`
(or, to print rows as they come, `markdown_header` then `markdown_row`):
GitHub-flavoured Markdown, a header row, a separator row and one line per
row, cells joined by " | ". A "|" inside a cell is escaped, and a line break
becomes a space, so a cell cannot break its row.

    >>> print(markdown_table(["method", "acc"], [["He", mean_std(0.9, 0.01)]]))
    | method | acc |
    |---|---|
    | He | 0.900 ± 0.010 |
"""

ALIGN = {None: "---", "left": ":---", "right": "---:", "center": ":---:"}


def cell_text(value):
    """`value` as the text of one cell: str(), "|" escaped, on one line."""
    text = " ".join(str(value).splitlines())
    return text.replace("\\|", "|").replace("|", "\\|")


def markdown_row(cells):
    """One row: "| a | b |"."""
    return "| " + " | ".join(cell_text(cell) for cell in cells) + " |"


def markdown_header(header, align=None):
    """The header row and the separator row, as two lines.

    `align`: None, or one of None, "left", "right", "center" per column.
    """
    align = align or [None] * len(header)
    if len(align) != len(header):
        raise ValueError(f"{len(header)} columns but {len(align)} alignments")
    separator = "|" + "".join(ALIGN[a] + "|" for a in align)
    return markdown_row(header) + "\n" + separator


def markdown_table(header, rows, align=None):
    """A whole table, without a trailing newline; every row as wide as `header`."""
    lines = [markdown_header(header, align)]
    for row in rows:
        row = list(row)
        if len(row) != len(header):
            raise ValueError(
                f"a row of {len(row)} cells in a table of {len(header)} columns: {row}"
            )
        lines.append(markdown_row(row))
    return "\n".join(lines)


def mean_std(mean, std, digits=3):
    """A mean over seeds and its standard deviation: "0.912 ± 0.004"."""
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def number(value, spec, missing="-"):
    """`value` formatted with `spec` (".1f", ".3g"), or `missing` if None."""
    return missing if value is None else format(value, spec)
