"""The `keras-ganinit` command line: its parser, and `main`, which runs it.

Each subcommand module (`pretrain`, `inspect`, `report`) adds its own parser
(`add_parser`) and checks its arguments (`check`), with no Keras import; its
work (`jobs/NAME.py`, `run`) is imported only then, so `--help` and mistakes
answer at once. This module puts them together and turns what goes wrong into
one line and an exit code.
"""

import argparse
import os

from keras_ganinit_cli import inspect, jobs, pretrain, report
from keras_ganinit_cli.errors import PROG, CliError, UsageError, print_error

COMMANDS = (pretrain, inspect, report)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in our one-line form."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser():
    """The `keras-ganinit` argument parser, subcommands included."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )
    parser = _Parser(
        prog=PROG,
        description="Data-driven weight initialization for Keras 3: pretrain a "
        "feature extractor GAN-style, inspect the result, check activations.",
        epilog="Run 'keras-ganinit COMMAND --help' for a command's options.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an error"
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for command in COMMANDS:
        command.add_parser(
            commands,
            parents=[common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    return parser


def main(argv=None):
    """Runs `keras-ganinit` with `argv` (default: sys.argv[1:]).

    Returns:
        The exit code: 0, 1 for an error, 2 for options misused.
    """
    # TensorFlow's C++ logging reads it when TensorFlow is imported, which
    # jobs.load does once the arguments are checked.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        args = build_parser().parse_args(argv)
    except CliError as error:
        return print_error(error)
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    try:
        args.validate(args)
        return jobs.load(args.job, args.debug).run(args) or 0
    except KeyboardInterrupt:
        if args.debug:
            raise
        return print_error(CliError("interrupted; nothing was saved"))
    except CliError as error:
        if args.debug:
            raise
        return print_error(error)
    except Exception as error:
        if args.debug:
            raise
        return print_error(
            CliError(
                f"{type(error).__name__}: {error} (run again with --debug to see where)"
            )
        )
