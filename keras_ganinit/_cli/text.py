"""Plain-text helpers for what the command prints."""


def one_line(text):
    """`text` (or an exception's message) with its white space folded to spaces.

    >>> one_line("a  message\\n  over two lines")
    'a message over two lines'
    """
    return " ".join(str(text).split())


def shorten(names, most=6):
    """The first `most` of `names`, joined with commas, and how many in all.

    >>> shorten(["a", "b", "c"], most=2)
    'a, b, ... (3 in all)'
    """
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names)} in all)" if len(names) > most else "")


def table(header, rows):
    """Indented columns: the first three aligned left, the others right.

    >>> print(table(("name", "kind", "unit", "value"), [["a", "b", "c", "1.5"]]))
      name  kind  unit  value
      a     b     c       1.5
    """
    widths = [
        max(len(str(cell)) for cell in column)
        for column in zip(header, *rows, strict=True)
    ]
    lines = [header, *rows]
    return "\n".join(
        "  "
        + "  ".join(
            str(cell).ljust(width) if i < 3 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    )
