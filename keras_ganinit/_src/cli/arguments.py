"""argparse value types the subcommands share."""

import argparse


def positive_int(text):
    """An integer >= 1, e.g. for --steps and --samples."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def shape(text):
    """Sizes separated by commas, e.g. 32,32,3 for --input-shape."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected sizes separated by commas, e.g. 32,32,3, got {text!r}"
        )
    return sizes
