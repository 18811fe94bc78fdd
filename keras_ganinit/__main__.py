"""`python -m keras_ganinit`: the `keras-ganinit` command (keras_ganinit_cli/).

This imports the whole package first; `keras-ganinit` and
`python -m keras_ganinit_cli` start without it, and answer `--help` at once.
"""

import sys

from keras_ganinit_cli.command import main

if __name__ == "__main__":
    sys.exit(main())
