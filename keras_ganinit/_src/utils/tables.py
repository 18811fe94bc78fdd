"""The package's one table writer: fixed-width text and GitHub Markdown.

`text_table` lays out what the reports and the command line print;
`markdown_table` (or `markdown_header` then `markdown_row`, to print rows as
they come) writes what the benchmarks and docs keep. Cells are formatted
with `cell` first: floats to 3 significant digits, booleans as yes/NO.

>>> print(text_table(("layer", "std"), [["fe1", 0.98765]]))
layer    std
-----  -----
fe1    0.988
>>> print(markdown_table(["method", "acc"], [["He", "0.900 ± 0.010"]]))
| method | acc |
|---|---|
| He | 0.900 ± 0.010 |
"""

ALIGN = {None: "---", "left": ":---", "right": "---:", "center": ":---:"}


def cell(value):
    """`value` as table text: floats with 3 significant digits, bools yes/NO."""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def text_table(header, rows, left=1, indent="", rule=True):
    """Fixed-width columns: the first `left` aligned left, the rest right.

    Args:
        header: the column names.
        rows: one sequence of values per row, as wide as `header`.
        left: how many leading columns are aligned left.
        indent: put in front of every line.
        rule: whether a line of dashes separates the header from the rows.
    """
    cells = [[str(name) for name in header]]
    for row in rows:
        row = [cell(value) for value in row]
        if len(row) != len(header):
            raise ValueError(
                f"a row of {len(row)} cells in a table of {len(header)} columns: {row}"
            )
        cells.append(row)
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]

    def render(line):
        return (
            indent
            + "  ".join(
                text.ljust(width) if i < left else text.rjust(width)
                for i, (text, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )

    lines = [render(cells[0])]
    if rule:
        lines.append(indent + "  ".join("-" * width for width in widths))
    return "\n".join(lines + [render(line) for line in cells[1:]])


def cell_text(value):
    """`value` as the text of one Markdown cell: "|" escaped, on one line."""
    text = " ".join(str(value).splitlines())
    return text.replace("\\|", "|").replace("|", "\\|")


def markdown_row(cells):
    """One row: "| a | b |"."""
    return "| " + " | ".join(cell_text(value) for value in cells) + " |"


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
