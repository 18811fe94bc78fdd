"""`python -m benchmarks <study> [--quick] [--seeds ...] [--out DIR]`.

    python -m benchmarks --list                # the studies, their questions
    python -m benchmarks few_labels --quick    # a smoke run (CI runs each)
    python -m benchmarks depth --seeds 0-2 --out /tmp/depth
    python -m benchmarks few_labels --out docs/benchmarks/few_labels \\
        --from-results docs/benchmarks/few_labels/results.json  # report only

The shared options mean the same in every study: `--seeds` takes seeds and
ranges (`0 1 2`, `100-104`), `--out` is a folder (results.json, report.md,
figures; default benchmark-results/<study>), `--backend` sets KERAS_BACKEND
before Keras is imported, `--from-results` rebuilds the report from stored
results.json files without training. `python -m benchmarks <study> --help`
lists a study's own options.
"""

import argparse
import importlib
import os
import shlex
import sys

from benchmarks.studies import STUDIES


def seeds(text):
    """ "3" -> [3]; "0-4" -> [0, 1, 2, 3, 4]."""
    try:
        low, _, high = text.partition("-")
        return list(range(int(low), int(high or low) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"seed {text!r}: expected an integer or a range like 0-4"
        ) from None


def parser_for(study):
    parser = argparse.ArgumentParser(
        prog=f"python -m benchmarks {study.name}", description=study.question
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run (CI)")
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=seeds,
        help=f"seeds or ranges (default {study.seeds})",
    )
    parser.add_argument("--out", help="the output folder (benchmark-results/<study>)")
    parser.add_argument("--backend", choices=["tensorflow", "jax", "torch"])
    parser.add_argument("--from-results", nargs="+", metavar="RESULTS_JSON")
    study.add_arguments(parser)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("--list", "-h", "--help"):
        print(__doc__ if argv[:1] != ["--list"] else "")
        for name, question in STUDIES.items():
            print(f"{name:15} {question}")
        return 0
    name = argv[0]
    if name not in STUDIES:
        print(f"unknown study {name!r}; the studies are: {', '.join(STUDIES)}")
        return 2
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--backend")
    backend = pre.parse_known_args(argv[1:])[0].backend
    if backend:  # before Keras is imported
        os.environ["KERAS_BACKEND"] = backend
    from benchmarks import reports, study

    module = importlib.import_module(f"benchmarks.studies.{name}")
    the_study = module.STUDY
    args = parser_for(the_study).parse_args(argv[1:])
    args.out = args.out or os.path.join("benchmark-results", name)
    command = shlex.join(["python", "-m", "benchmarks", *argv])
    if args.from_results:
        meta, runs = reports.read_results(args.from_results)
        study.write(the_study, meta, runs, args.out)
        print(f"wrote {args.out}/report.md from {len(runs)} stored runs")
        return 0
    chosen = [s for group in args.seeds or [] for s in group]
    args.seeds = chosen or list(
        the_study.quick_seeds if args.quick else the_study.seeds
    )
    meta = reports.metadata(
        command, args.seeds, quick=args.quick, **the_study.describe(args)
    )
    runs, bad = study.execute(the_study, args, meta)
    print(f"{len(runs)} runs in {meta['minutes']:.1f} min; wrote {args.out}")
    for run in bad:
        print(the_study.line(run))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
