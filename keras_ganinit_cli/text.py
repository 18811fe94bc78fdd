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
