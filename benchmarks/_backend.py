"""`--backend NAME` read before Keras is imported: `import _backend` first.

Keras picks its backend once, at import, from KERAS_BACKEND; a script that
takes `--backend` must set it before its own `import keras`.
"""

import os
import sys


def backend_from_argv(argv):
    """The value of --backend on the command line, or None."""
    for i, arg in enumerate(argv):
        if arg == "--backend" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--backend="):
            return arg.split("=", 1)[1]
    return None


if backend_from_argv(sys.argv[1:]):
    os.environ["KERAS_BACKEND"] = backend_from_argv(sys.argv[1:])
