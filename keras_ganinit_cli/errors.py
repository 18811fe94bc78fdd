"""What can go wrong, and how it is told: one line on stderr, an exit code."""

import sys

from keras_ganinit_cli.text import one_line

PROG = "keras-ganinit"


class CliError(Exception):
    """A mistake the user can fix: reported in one line, exit code 1."""

    exit_code = 1


class UsageError(CliError):
    """Options that do not go together: exit code 2, as argparse's own."""

    exit_code = 2


def print_error(error):
    """Prints `error` as `keras-ganinit: error: ...`; returns its exit code."""
    print(f"{PROG}: error: {one_line(error)}", file=sys.stderr)
    return error.exit_code


def print_warning(message):
    """Prints `message` as `keras-ganinit: warning: ...`."""
    print(f"{PROG}: warning: {one_line(message)}", file=sys.stderr)
