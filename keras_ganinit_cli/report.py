"""`keras-ganinit report`: its options, and their checks; the work is in jobs/."""

import argparse

from keras_ganinit_cli import outputs, paths
from keras_ganinit_cli.arguments import add_data, add_data_options, positive_int

# Samples `report` measures, as docs/diagnostics.md advises ("a few hundred").
DEFAULT_SAMPLES = 512


def add_parser(commands, **shared):
    """Adds `report` to `commands` (argparse subparsers)."""
    parser = commands.add_parser(
        "report",
        **shared,
        help="print a model's activation report on data",
        description="Print a saved model's activation report on data.",
        epilog="Example:\n"
        "  keras-ganinit report pretrained.keras digits.npy --plot act.png --check",
    )
    parser.add_argument("model", metavar="MODEL.keras", help="a saved model")
    add_data(parser)
    parser.add_argument("--plot", metavar="OUT.png", help="also draw it to a PNG")
    parser.add_argument(
        "--samples",
        type=positive_int,
        metavar="N",
        default=DEFAULT_SAMPLES,
        help="how many samples to measure (default: %(default)s)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with code 1 if a layer is dead, saturated, exploding, "
        "vanishing or not finite",
    )
    parser.add_argument(
        "--labels",
        metavar="LABELS.npy",
        help="integer class labels, one per sample of DATA (a .npy file, or a "
        ".npz file that holds one array): also print a linear probe of the "
        "model's features (keras_ganinit.linear_probe) on a held-out fifth",
    )
    parser.add_argument(
        "--batch-statistics",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="BatchNormalization uses the batch's statistics (default: no "
        "for a GanInitModel, whose statistics calibration set; yes otherwise)",
    )
    add_data_options(parser)
    parser.set_defaults(validate=check, job="report")


def check(args):
    """Fails on what `args` get wrong before any model or data is loaded."""
    paths.check_model_file(args.model, "MODEL")
    paths.check_data(args.data, args.key)
    if args.plot:
        outputs.check_plot(args.plot)
    if args.labels is not None:
        paths.check_labels_path(args.labels, args.data)
