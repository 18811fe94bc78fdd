"""The `keras-ganinit` command: pretrain, inspect and report from a shell.

Three subcommands. `pretrain` wraps `GanInitModel.fit` for a saved or
`keras.applications` extractor and data in a file or folder, and saves the
result atomically; `inspect` shows what a saved model holds (weights, the
options it was trained with, whether its kernels look calibrated); `report`
prints a model's activation report on data. Errors are one line,
`keras-ganinit: error: ...`, with exit code 2 for misused options and 1 for
everything else; `--debug` shows the traceback instead.

The arguments, and the paths they name, are checked before any model or data
is loaded, so `--help` and mistakes in the command line answer at once.

The modules, one concern each:

- `command`: the top-level parser and `main(argv)` (the console script's
  entry point): runs a subcommand and
  turns its errors into exit codes.
- `pretrain`, `inspect`, `report`: one subcommand each, its options
  (`add_parser`) and what it does (`run`).
- `data`: DATA arguments: .npy, .npz and .csv files, folders of images.
- `models`: EXTRACTOR, MODEL and SOURCE arguments: saved `.keras` files and
  `keras.applications:NAME`.
- `outputs`: the files written: --out and --plot checks, atomic saving.
- `arguments`: argparse value types shared by the subcommands.
- `errors`: `CliError`, `UsageError`, and the one-line error and warning.
- `text`: plain-text helpers: one-line messages, short lists, tables.
"""
