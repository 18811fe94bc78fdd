"""`keras-ganinit report`: a saved model's activation report on data."""

import argparse

import numpy as np

from keras_ganinit._src.cli import data, models, outputs
from keras_ganinit._src.cli.arguments import positive_int
from keras_ganinit._src.cli.errors import CliError
from keras_ganinit._src.diagnostics.activation_report import activation_report
from keras_ganinit._src.diagnostics.linear_probe import linear_probe

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
    data.add_options(parser)
    parser.set_defaults(run=run)


def run(args):
    """Runs `report` with the parsed `args`; returns the exit code."""
    models.check_model_file(args.model, "MODEL")
    data.check_path(args.data, args.key)
    if args.plot:
        outputs.check_plot(args.plot)
    if args.labels is not None:
        data.check_labels_path(args.labels, args.data)
    data.prepare(args.data, args.debug)
    is_gan, target = models.unwrap(models.load_model(args.model, "MODEL"))
    limit = None if args.labels is not None else args.samples
    x, what = data.load(args.data, args.key, target, args.rescale, limit=limit)
    probe = None
    if args.labels is not None:
        probe = _linear_probe(target, x, data.load_labels(args.labels, len(x)))
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
    if probe is not None:
        print(f"\n{probe}")
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


def _linear_probe(model, x, y):
    """A linear probe trained on a seeded four fifths of (x, y), tested on the rest."""
    order = np.random.default_rng(0).permutation(len(x))
    cut = max(1, len(x) * 4 // 5)
    train, test = order[:cut], order[cut:]
    if len(test) == 0:
        raise CliError(
            f"--labels: DATA has {len(x)} sample, too few to hold a fifth out for "
            f"the linear probe. Pass at least 2 labelled samples (a few hundred "
            f"for a useful number)."
        )
    try:
        return linear_probe(
            model, x[train], y[train], validation_data=(x[test], y[test]), seed=0
        )
    except (TypeError, ValueError) as error:
        raise CliError(f"--labels: {error}") from error
