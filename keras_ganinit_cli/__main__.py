"""`python -m keras_ganinit_cli`: the `keras-ganinit` command, started light."""

import sys

from keras_ganinit_cli.command import main

if __name__ == "__main__":
    sys.exit(main())
