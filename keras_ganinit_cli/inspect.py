"""`keras-ganinit inspect`: its options, and their checks; the work is in jobs/."""

from keras_ganinit_cli import paths


def add_parser(commands, **shared):
    """Adds `inspect` to `commands` (argparse subparsers)."""
    parser = commands.add_parser(
        "inspect",
        **shared,
        help="show a saved model's weights and training options",
        description="Show a saved model's weights, options and calibration.",
        epilog="Example:\n  keras-ganinit inspect pretrained.keras",
    )
    parser.add_argument("source", metavar="SOURCE.keras", help="a saved model")
    parser.set_defaults(validate=check, job="inspect")


def check(args):
    """Fails on what `args` get wrong before the model is loaded."""
    paths.check_model_file(args.source, "SOURCE")
