"""`keras-ganinit report`'s work: a saved model's activation report on data."""

import numpy as np

from keras_ganinit._src.diagnostics.activation_report import activation_report
from keras_ganinit._src.diagnostics.linear_probe import linear_probe
from keras_ganinit_cli.errors import CliError
from keras_ganinit_cli.jobs import data, models


def run(args):
    """Runs `report` with the parsed `args`; returns the exit code."""
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
        report = activation_report(
            target, x, batch_statistics=batch_statistics, samples=None
        )
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
                f"--plot needs matplotlib ({error}): pip install matplotlib "
                f"(or pip install -e '.[plots]' in a checkout of keras_ganinit), "
                f"or leave --plot out."
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
