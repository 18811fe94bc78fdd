"""`keras-ganinit report`: a saved model's activation report on data."""

import argparse

import numpy as np

from keras_ganinit._src.cli import data, models, outputs
from keras_ganinit._src.cli.arguments import positive_int
from keras_ganinit._src.cli.errors import CliError
from keras_ganinit._src.diagnostics.activation_report import activation_report

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
    data.add_argument(parser)
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
        "--batch-statistics",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="BatchNormalization uses the batch's statistics (default: no "
        "for a GanInitModel, whose statistics calibration set; yes otherwise)",
    )
    data.add_options(parser)
    parser.set_defaults(run=run)


def run(args):
    """Runs `report` with the parsed `args`; returns the exit code."""
    models.check_model_file(args.model, "MODEL")
    data.check_path(args.data, args.key)
    if args.plot:
        outputs.check_plot(args.plot)
    data.prepare(args.data, args.debug)
    is_gan, target = models.unwrap(models.load_model(args.model, "MODEL"))
    x, what = data.load(args.data, args.key, target, args.rescale, limit=args.samples)
    if len(x) > args.samples:
        chosen = np.random.default_rng(0).choice(len(x), args.samples, replace=False)
        x = x[np.sort(chosen)]
    batch_statistics = args.batch_statistics
    if batch_statistics is None:
        batch_statistics = not is_gan
    try:
        report = activation_report(target, x, batch_statistics=batch_statistics)
    except (TypeError, ValueError) as error:
        raise CliError(str(error)) from error
    print(f"{args.model}: {len(x)} samples from {what}")
    print(report)
    if args.plot:
        try:
            report.plot(args.plot)
        except ImportError as error:
            raise CliError(
                f"--plot needs matplotlib ({error}): pip install "
                f"'keras-ganinit[plots]', or leave --plot out."
            ) from error
        print(f"Plot written to {args.plot}")
    if args.check:
        try:
            report.check()
        except ValueError as error:
            print(f"\n{error}")
            first = str(error).splitlines()[0].rstrip(":")
            raise CliError(f"--check failed: {first} (details above).") from error
        print(
            "Check passed: no layer is dead, saturated, exploding, vanishing or "
            "non-finite."
        )
    return 0
