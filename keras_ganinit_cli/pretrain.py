"""`keras-ganinit pretrain`: its options, and their checks; the work is in jobs/."""

from keras_ganinit_cli import outputs, paths
from keras_ganinit_cli.arguments import (
    add_data,
    add_data_options,
    positive_int,
    shape,
)
from keras_ganinit_cli.errors import UsageError

# fit()'s own default length (keras_ganinit/_src/pretraining/defaults.py),
# written here too because importing the package imports Keras, and --help
# answers without it; tests/test_cli_startup.py checks that the two agree.
DEFAULT_STEPS = 200

DEFAULT_BATCH_SIZE = 64


def add_parser(commands, **shared):
    """Adds `pretrain` to `commands` (argparse subparsers)."""
    parser = commands.add_parser(
        "pretrain",
        **shared,
        help="pretrain an extractor GAN-style and save it",
        description="Pretrain a feature extractor GAN-style and save it (.keras).",
        epilog="Examples:\n"
        "  keras-ganinit pretrain extractor.keras digits.npy --out pretrained.keras\n"
        "  keras-ganinit pretrain keras.applications:MobileNetV2 images/ \\\n"
        "      --input-shape 32,32,3 --steps 400 --out mobilenet_init.keras",
    )
    parser.add_argument(
        "extractor",
        metavar="EXTRACTOR",
        help="a saved Keras model (.keras), or keras.applications:NAME "
        "(built with weights=None, include_top=False, pooling='avg'; needs "
        "--input-shape)",
    )
    add_data(parser)
    parser.add_argument(
        "--out", required=True, metavar="PRETRAINED.keras", help="where to save"
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--steps",
        type=positive_int,
        metavar="N",
        help=f"train this many steps (default: {DEFAULT_STEPS})",
    )
    budget.add_argument(
        "--epochs",
        type=positive_int,
        metavar="N",
        help="train this many passes over the data",
    )
    parser.add_argument(
        "--recipe",
        choices=("default", "paper"),
        default="default",
        help="GanInitModel's recipe (default: %(default)s, which calibrates)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="N",
        default=DEFAULT_BATCH_SIZE,
        help="samples per step (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, metavar="S", help="seed every random generator"
    )
    parser.add_argument(
        "--input-shape",
        type=shape,
        metavar="H,W,C",
        help="the input shape of a keras.applications extractor",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --out if it exists"
    )
    add_data_options(parser)
    parser.set_defaults(validate=check, job="pretrain")


def check(args):
    """Fails on what `args` get wrong before any model or data is loaded."""
    application = args.extractor.startswith(paths.APPLICATIONS)
    if application and args.input_shape is None:
        raise UsageError(
            f"{args.extractor} needs --input-shape H,W,C, e.g. --input-shape 32,32,3."
        )
    if not application:
        if args.input_shape is not None:
            raise UsageError(
                "--input-shape is for keras.applications:NAME extractors only: a "
                "saved model has its own input shape. Leave it out."
            )
        paths.check_model_file(args.extractor, "EXTRACTOR")
    paths.check_data(args.data, args.key)
    outputs.check_out(args.out, None if application else args.extractor, args.overwrite)
