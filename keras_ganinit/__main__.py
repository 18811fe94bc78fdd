"""`python -m keras_ganinit`: the `keras-ganinit` command (keras_ganinit/_src/cli/)."""

import sys

from keras_ganinit._src.cli.command import main

if __name__ == "__main__":
    sys.exit(main())
