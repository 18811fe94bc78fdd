"""What the subcommands' parsers share: value types, and the DATA arguments."""

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


def add_data(parser):
    """The DATA positional argument of `pretrain` and `report`."""
    parser.add_argument(
        "data",
        metavar="DATA",
        help="a .npy, .npz or .csv file of samples, or a folder of images",
    )


def add_data_options(parser):
    """--key and --rescale: how to read DATA."""
    parser.add_argument(
        "--key",
        metavar="NAME",
        help="the array to read from a .npz file that holds several",
    )
    parser.add_argument(
        "--rescale",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="divide the data by 255 (default: yes for a folder of images, "
        "unless the model starts with its own Rescaling or Normalization "
        "layer; no for arrays)",
    )
