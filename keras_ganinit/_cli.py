"""The `keras-ganinit` command: pretrain, inspect and report from a shell.

Three subcommands. `pretrain` wraps `GanInitModel.fit` for a saved or
`keras.applications` extractor and data in a file or folder, and saves the
result atomically; `inspect` shows what a saved model holds (weights, the
options it was trained with, whether its kernels look calibrated); `report`
prints a model's activation report on data. Errors are one line,
`keras-ganinit: error: ...`, with exit code 2 for misused options and 1 for
everything else; `--debug` shows the traceback instead.

Keras is imported only once the arguments have been checked, so `--help` and
mistakes in the command line answer at once.
"""

import argparse
import contextlib
import csv
import difflib
import json
import math
import os
import sys
import tempfile
import time
import warnings
import zipfile

PROG = "keras-ganinit"
# The pretraining length without --steps or --epochs: GanInitModel.fit's own
# default (keras_ganinit/_budget.py, measured in docs/benchmarks.md).
DEFAULT_STEPS = 200
DEFAULT_BATCH_SIZE = 64
# Samples `report` measures, as docs/diagnostics.md advises ("a few hundred").
DEFAULT_SAMPLES = 512
APPLICATIONS = "keras.applications:"
ARRAY_SUFFIXES = (".npy", ".npz", ".csv")
# Calibration sets every singular value of a kernel to the same number; a
# max/min ratio below this counts as equal (float32 rounding, not training).
EQUAL_SINGULAR_VALUES = 1.01
IMAGE_READ_BATCH = 256
# Optimizer settings `inspect` shows, when saved and not None.
OPTIMIZER_KEYS = (
    "learning_rate",
    "beta_1",
    "beta_2",
    "epsilon",
    "momentum",
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
)


class CliError(Exception):
    """A mistake the user can fix: reported in one line, exit code 1."""

    exit_code = 1


class UsageError(CliError):
    """Options that do not go together: exit code 2, as argparse's own."""

    exit_code = 2


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in our one-line form."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


# The command line.


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _shape(text):
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(
            f"expected sizes separated by commas, e.g. 32,32,3, got {text!r}"
        )
    return shape


def _add_data_options(parser):
    parser.add_argument(
        "--key",
        metavar="NAME",
        help="the array to read from a .npz file that holds several",
    )
    parser.add_argument(
        "--rescale",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="divide the data by 255 (default: yes for a folder of images, "
        "unless the model starts with its own Rescaling or Normalization "
        "layer; no for arrays)",
    )


def build_parser():
    """The `keras-ganinit` argument parser, subcommands included."""
    formatter = argparse.RawDescriptionHelpFormatter
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

    pretrain = commands.add_parser(
        "pretrain",
        parents=[common],
        formatter_class=formatter,
        help="pretrain an extractor GAN-style and save it",
        description="Pretrain a feature extractor GAN-style and save it (.keras).",
        epilog="Examples:\n"
        "  keras-ganinit pretrain extractor.keras digits.npy --out pretrained.keras\n"
        "  keras-ganinit pretrain keras.applications:MobileNetV2 images/ \\\n"
        "      --input-shape 32,32,3 --steps 400 --out mobilenet_init.keras",
    )
    pretrain.add_argument(
        "extractor",
        metavar="EXTRACTOR",
        help="a saved Keras model (.keras), or keras.applications:NAME "
        "(built with weights=None, include_top=False, pooling='avg'; needs "
        "--input-shape)",
    )
    pretrain.add_argument(
        "data",
        metavar="DATA",
        help="a .npy, .npz or .csv file of samples, or a folder of images",
    )
    pretrain.add_argument(
        "--out", required=True, metavar="PRETRAINED.keras", help="where to save"
    )
    budget = pretrain.add_mutually_exclusive_group()
    budget.add_argument(
        "--steps",
        type=_positive_int,
        metavar="N",
        help=f"train this many steps (default: {DEFAULT_STEPS})",
    )
    budget.add_argument(
        "--epochs",
        type=_positive_int,
        metavar="N",
        help="train this many passes over the data",
    )
    pretrain.add_argument(
        "--recipe",
        choices=("default", "paper"),
        default="default",
        help="GanInitModel's recipe (default: %(default)s, which calibrates)",
    )
    pretrain.add_argument(
        "--batch-size",
        type=_positive_int,
        metavar="N",
        default=DEFAULT_BATCH_SIZE,
        help="samples per step (default: %(default)s)",
    )
    pretrain.add_argument(
        "--seed", type=int, metavar="S", help="seed every random generator"
    )
    pretrain.add_argument(
        "--input-shape",
        type=_shape,
        metavar="H,W,C",
        help="the input shape of a keras.applications extractor",
    )
    pretrain.add_argument(
        "--overwrite", action="store_true", help="replace --out if it exists"
    )
    _add_data_options(pretrain)
    pretrain.set_defaults(run=_pretrain)

    inspect = commands.add_parser(
        "inspect",
        parents=[common],
        formatter_class=formatter,
        help="show a saved model's weights and training options",
        description="Show a saved model's weights, options and calibration.",
        epilog="Example:\n  keras-ganinit inspect pretrained.keras",
    )
    inspect.add_argument("source", metavar="SOURCE.keras", help="a saved model")
    inspect.set_defaults(run=_inspect)

    report = commands.add_parser(
        "report",
        parents=[common],
        formatter_class=formatter,
        help="print a model's activation report on data",
        description="Print a saved model's activation report on data.",
        epilog="Example:\n"
        "  keras-ganinit report pretrained.keras digits.npy --plot act.png --check",
    )
    report.add_argument("model", metavar="MODEL.keras", help="a saved model")
    report.add_argument(
        "data",
        metavar="DATA",
        help="a .npy, .npz or .csv file of samples, or a folder of images",
    )
    report.add_argument("--plot", metavar="OUT.png", help="also draw it to a PNG")
    report.add_argument(
        "--samples",
        type=_positive_int,
        metavar="N",
        default=DEFAULT_SAMPLES,
        help="how many samples to measure (default: %(default)s)",
    )
    report.add_argument(
        "--check",
        action="store_true",
        help="exit with code 1 if a layer is dead, saturated, exploding, "
        "vanishing or not finite",
    )
    report.add_argument(
        "--batch-statistics",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="BatchNormalization uses the batch's statistics (default: no "
        "for a GanInitModel, whose statistics calibration set; yes otherwise)",
    )
    _add_data_options(report)
    report.set_defaults(run=_report)
    return parser


def main(argv=None):
    """Runs `keras-ganinit` with `argv` (default: sys.argv[1:]).

    Returns:
        The exit code: 0, 1 for an error, 2 for options misused.
    """
    # TensorFlow's C++ logging reads it when TensorFlow is imported; under
    # `python -m keras_ganinit` the package may have imported it already.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        args = build_parser().parse_args(argv)
    except CliError as error:
        return _fail(error)
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        if args.debug:
            raise
        return _fail(CliError("interrupted; nothing was saved"))
    except CliError as error:
        if args.debug:
            raise
        return _fail(error)
    except Exception as error:
        if args.debug:
            raise
        return _fail(
            CliError(
                f"{type(error).__name__}: {error} (run again with --debug to see where)"
            )
        )


def _fail(error):
    message = " ".join(str(error).split())
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return error.exit_code


# Checks that need no Keras: they answer before it loads.


def _check_model_file(path, what):
    if not os.path.exists(path):
        hint = ""
        if what == "EXTRACTOR" and ":" in path:
            hint = (
                f" To build a keras.applications model, write "
                f"{APPLICATIONS}NAME, e.g. {APPLICATIONS}MobileNetV2."
            )
        raise CliError(
            f"{what} {path!r} does not exist. Pass the path of a model saved "
            f"with model.save('model.keras').{hint}"
        )
    if os.path.isdir(path) or not path.endswith(".keras"):
        raise CliError(
            f"{what} {path!r} is not a .keras file. keras-ganinit reads models "
            f"saved with model.save('model.keras'); load an older .h5 model in "
            f"Python and save it again as .keras."
        )


def _check_data_path(path, key):
    if not os.path.exists(path):
        raise CliError(
            f"DATA {path!r} does not exist. Pass a .npy, .npz or .csv file of "
            f"samples, or a folder of images."
        )
    if not os.path.isdir(path) and not path.lower().endswith(ARRAY_SUFFIXES):
        raise CliError(
            f"DATA {path!r} is neither a .npy, .npz or .csv file nor a folder "
            f"of images. Save the samples with np.save('data.npy', x), or pass "
            f"the folder that holds the images."
        )
    if key is not None and not path.lower().endswith(".npz"):
        raise UsageError(
            f"--key picks an array in a .npz file, but DATA {path!r} is not "
            f"one. Leave --key out."
        )


def _check_out(out, extractor, overwrite):
    if not out.endswith(".keras"):
        raise CliError(
            f"--out {out!r} must end in .keras, the format Keras saves models "
            f"in. Pass e.g. --out pretrained.keras."
        )
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise CliError(
            f"The folder of --out {out!r} does not exist ({folder}). Create it "
            f"first, or choose another path."
        )
    if not os.path.exists(out):
        return
    if os.path.isdir(out):
        raise CliError(f"--out {out!r} is a folder. Pass a file path ending in .keras.")
    if extractor is not None and os.path.samefile(out, extractor):
        raise CliError(
            f"--out {out!r} is the EXTRACTOR file itself. keras-ganinit never "
            f"changes the file it starts from, even with --overwrite: pass "
            f"another --out path."
        )
    if not overwrite:
        raise CliError(
            f"--out {out!r} exists already. Pass --overwrite to replace it, or "
            f"choose another path."
        )


def _check_plot(path):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(
            f"The folder of --plot {path!r} does not exist ({folder}). Create "
            f"it first, or choose another path."
        )


# Models.


def _keras():
    """Keras and keras_ganinit, whose import registers its saved classes."""
    import keras

    import keras_ganinit

    return keras, keras_ganinit


def _load_model(path, what):
    """The model saved at `path`, read in safe mode, never compiled."""
    keras, _ = _keras()
    from keras_ganinit._source import _safe_mode

    if not zipfile.is_zipfile(path):
        raise CliError(
            f"{what} {path!r} is not a Keras model file: a .keras file is the "
            f"zip archive model.save('model.keras') writes. Pass such a file."
        )
    try:
        with _safe_mode():
            return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:
        text = " ".join(str(error).split())
        if "safe_mode" in text or "lambda" in text.lower():
            raise CliError(
                f"{what} {path!r} holds a Lambda layer (Python code), which "
                f"keras-ganinit never loads (Keras's safe mode). Rebuild the "
                f"model without Lambda layers (a custom layer or a built-in "
                f"one), or copy its weights into such a model, and save that."
            ) from error
        raise CliError(
            f"Cannot load {what} {path!r} as a Keras model ({type(error).__name__}"
            f": {text}). Pass a .keras file written by model.save() that uses "
            f"Keras's and keras_ganinit's layers only."
        ) from error


def _saved_config(path):
    """The JSON config in a .keras archive (no code runs), or {}."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        return {}


def _is_gan(model):
    _, keras_ganinit = _keras()
    return isinstance(model, keras_ganinit.GanInitModel)


def _application(name, shape):
    """keras.applications.NAME(weights=None, include_top=False, pooling='avg')."""
    keras, _ = _keras()
    names = sorted(
        n
        for n in dir(keras.applications)
        if n[:1].isupper() and callable(getattr(keras.applications, n))
    )
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        guess = f" Did you mean {close[0]}?" if close else ""
        raise UsageError(
            f"keras.applications has no model {name!r}.{guess} Valid names: "
            f"{', '.join(names)}."
        )
    try:
        return getattr(keras.applications, name)(
            include_top=False, weights=None, input_shape=shape, pooling="avg"
        )
    except Exception as error:
        raise CliError(
            f"Cannot build keras.applications.{name} with --input-shape "
            f"{','.join(map(str, shape))}: {error}"
        ) from error


def _input_shape(model, role):
    from keras_ganinit._layers import single_input_shape

    try:
        return single_input_shape(model, role)
    except (TypeError, ValueError) as error:
        raise CliError(str(error)) from error


def _own_preprocessing(model):
    """Whether `model` rescales its input itself, before its first kernel."""
    keras, _ = _keras()
    from keras_ganinit._layers import leaf_layers

    for layer in leaf_layers(model):
        if isinstance(layer, (keras.layers.Rescaling, keras.layers.Normalization)):
            return True
        if layer.weights:
            return False
    return False


# Data.


@contextlib.contextmanager
def _native_stderr_silenced():
    """Sends what native code writes to stderr (file descriptor 2) nowhere.

    TensorFlow logs through absl while it loads, before its logging is set
    up, and TF_CPP_MIN_LOG_LEVEL does not filter those lines (TensorFlow
    2.21). Python's own errors are raised as usual.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):
        saved = None
    if saved is None:
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _load_tensorflow(debug):
    """Imports TensorFlow for reading images, quietly unless `debug`.

    Under the JAX and PyTorch backends it is not loaded yet; under
    TensorFlow's, `import keras_ganinit` loaded it before the command ran.
    """
    if "tensorflow" in sys.modules:
        return
    with contextlib.nullcontext() if debug else _native_stderr_silenced():
        import tensorflow as tf

        tf.constant(0.0)  # Sets up its devices, which logs too.


def _load_data(path, key, model, rescale, limit=None, seed=None):
    """(samples as float32 with `model`'s input shape, a description)."""
    shape = _input_shape(model, "model")
    if os.path.isdir(path):
        x, what = _read_images(path, shape, limit, seed)
        if rescale is None:
            rescale = not _own_preprocessing(model)
            if not rescale:
                what += f", kept in 0-255 ({model.name!r} rescales its input itself)"
    elif path.lower().endswith(".csv"):
        x, header = _read_csv(path)
        what = f"{path} (its header line skipped)" if header else path
    else:
        x, what = _read_array(path, key)
    _check_samples_shape(x, shape, path, model)
    if rescale:
        x = x / 255.0
        what += ", divided by 255"
    return x, what


def _read_array(path, key):
    import numpy as np

    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise CliError(
            f"Cannot read DATA {path!r} as a NumPy file ({error}). keras-ganinit "
            f"reads numeric arrays saved with np.save or np.savez, never pickled "
            f"objects."
        ) from error
    what = path
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.files)
            if key is None and len(keys) != 1:
                raise CliError(
                    f"DATA {path!r} holds {len(keys)} arrays "
                    f"({', '.join(keys) or 'none'}). Pick one with --key NAME."
                )
            key = keys[0] if key is None else key
            if key not in keys:
                raise CliError(
                    f"DATA {path!r} has no array {key!r}. Its arrays: "
                    f"{', '.join(keys) or 'none'}. Pass one of them as --key."
                )
            try:
                array = loaded[key]
            except ValueError as error:
                raise CliError(
                    f"Cannot read array {key!r} of DATA {path!r} ({error}). "
                    f"keras-ganinit reads numeric arrays only."
                ) from error
            what = f"{path}[{key!r}]"
    else:
        array = loaded
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise CliError(
            f"DATA {what} holds {array.dtype} values, not numbers. Save the "
            f"samples as a numeric array."
        )
    return array.astype("float32"), what


def _read_csv(path):
    """(the numbers in a CSV file, one sample a line; whether a header was skipped).

    The first non-empty line is a header if one of its cells is not a number.
    """
    import numpy as np

    rows, width, first, header = [], None, None, False
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            for number, cells in enumerate(csv.reader(file), start=1):
                if not any(cell.strip() for cell in cells):
                    continue
                values, bad = [], None
                for column, cell in enumerate(cells, start=1):
                    try:
                        values.append(float(cell))
                    except ValueError:
                        bad = (column, cell)
                        break
                if bad and not rows and not header:
                    header = True  # The first line, with words: a header.
                    continue
                if bad:
                    column, cell = bad
                    shown = "an empty cell" if not cell.strip() else repr(cell)
                    raise CliError(
                        f"DATA {path!r}, line {number}, column {column}: {shown} "
                        f"is not a number. The CSV must hold numbers only, one "
                        f"sample per line (a header line first is allowed); fix "
                        f"or remove that line."
                    )
                if width is None:
                    width, first = len(values), number
                elif len(values) != width:
                    raise CliError(
                        f"DATA {path!r}, line {number} has {len(values)} values, "
                        f"but line {first} has {width}. Every line must hold one "
                        f"sample with the same number of values."
                    )
                rows.append(values)
    except (UnicodeDecodeError, csv.Error) as error:
        raise CliError(
            f"Cannot read DATA {path!r} as a CSV text file ({error}). Pass a "
            f"text file of numbers separated by commas."
        ) from error
    if not rows:
        raise CliError(f"DATA {path!r} holds no samples: no line of numbers.")
    return np.asarray(rows, dtype="float32"), header


def _read_images(folder, shape, limit, seed):
    """Up to `limit` images of `folder` (shuffled), resized to `shape`."""
    import numpy as np

    keras, _ = _keras()
    modes = {1: "grayscale", 3: "rgb", 4: "rgba"}
    if len(shape) != 3 or shape[-1] not in modes:
        raise CliError(
            f"DATA {folder!r} is a folder of images, but the model takes inputs "
            f"of shape {shape}, not (height, width, channels) with 1, 3 or 4 "
            f"channels. Use an image model, or save the samples with the model's "
            f"input shape as .npy."
        )
    try:
        dataset = keras.utils.image_dataset_from_directory(
            folder,
            labels=None,
            color_mode=modes[shape[-1]],
            image_size=shape[:2],
            batch_size=IMAGE_READ_BATCH,
            shuffle=True,
            seed=0 if seed is None else seed,
        )
    except ValueError as error:
        raise CliError(
            f"Cannot read images from DATA {folder!r}: {error} (keras reads "
            f".bmp, .gif, .jpeg, .jpg and .png files, in subfolders too)."
        ) from error
    if limit is not None:
        dataset = dataset.take(math.ceil(limit / IMAGE_READ_BATCH))
    x = np.concatenate([np.asarray(batch) for batch in dataset])[:limit]
    what = f"the folder {folder} ({shape[0]}x{shape[1]} {modes[shape[-1]]})"
    return x.astype("float32"), what


def _check_samples_shape(x, shape, path, model):
    if x.ndim >= 1 and tuple(x.shape[1:]) == tuple(shape):
        return
    sample = tuple(x.shape[1:]) if x.ndim else ()
    message = (
        f"DATA {path!r} holds samples of shape {sample} ({x.shape[0] if x.ndim else 0}"
        f" samples: array shape {x.shape}), but {model.name!r} takes inputs of "
        f"shape {tuple(shape)}."
    )
    if len(sample) == 1 and len(shape) > 1 and sample[0] == math.prod(shape):
        message += (
            f" The data is flat ({sample[0]} values per sample) and the model "
            f"takes images: save them reshaped, e.g. np.save('x.npy', "
            f"x.reshape(-1, {', '.join(map(str, shape))}))."
        )
    else:
        message += " Pass samples with the model's input shape."
    raise CliError(message)


# pretrain


def _pretrain(args):
    application = args.extractor.startswith(APPLICATIONS)
    if application:
        name = args.extractor[len(APPLICATIONS) :]
        if args.input_shape is None:
            raise UsageError(
                f"{args.extractor} needs --input-shape H,W,C, e.g. "
                f"--input-shape 32,32,3."
            )
    else:
        if args.input_shape is not None:
            raise UsageError(
                "--input-shape is for keras.applications:NAME extractors only: a "
                "saved model has its own input shape. Leave it out."
            )
        _check_model_file(args.extractor, "EXTRACTOR")
    _check_data_path(args.data, args.key)
    _check_out(args.out, None if application else args.extractor, args.overwrite)
    if os.path.isdir(args.data):
        _load_tensorflow(args.debug)

    keras, keras_ganinit = _keras()
    from keras_ganinit import gan_init_model
    from keras_ganinit._source import snapshot_of_model

    if args.seed is not None:
        keras.utils.set_random_seed(args.seed)
    if application:
        extractor = _application(name, args.input_shape)
    else:
        extractor = _load_model(args.extractor, "EXTRACTOR")
        if _is_gan(extractor):
            print(
                f"{args.extractor} holds a GanInitModel: pretraining its "
                f"extractor again, with a new decoder and discriminator."
            )
            extractor = extractor.extractor
    steps = args.steps or (None if args.epochs else DEFAULT_STEPS)
    limit = None
    if steps is not None:
        limit = max(steps * args.batch_size, gan_init_model.CALIBRATION_SAMPLES)
    x, what = _load_data(
        args.data, args.key, extractor, args.rescale, limit=limit, seed=args.seed
    )
    try:
        gan = keras_ganinit.GanInitModel(extractor, recipe=args.recipe, seed=args.seed)
    except (TypeError, ValueError) as error:
        raise CliError(f"Cannot pretrain {extractor.name!r}: {error}") from error
    gan.compile()
    budget = f"{steps} steps" if steps else f"{args.epochs} epochs"
    print(
        f"Pretraining {extractor.name!r} (input {_input_shape(extractor, 'model')}"
        f", {extractor.count_params():,} parameters) on {len(x)} samples from "
        f"{what}: {budget}, batch size {args.batch_size}, recipe {args.recipe!r}.",
        flush=True,
    )
    calibrated = []
    calibrate = gan.calibrate

    def calibrate_and_record(*call_args, **call_kwargs):
        result = calibrate(*call_args, **call_kwargs)
        calibrated.append(True)
        return result

    object.__setattr__(gan, "calibrate", calibrate_and_record)
    budget_kwargs = {"steps": steps} if steps else {"epochs": args.epochs}
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        try:
            history = gan.fit(
                x, batch_size=args.batch_size, verbose="auto", **budget_kwargs
            )
        except (FloatingPointError, ValueError) as error:
            raise CliError(f"{error} Nothing was saved.") from error
        finally:
            object.__delattr__(gan, "calibrate")
            for warning in caught:
                message = " ".join(str(warning.message).split())
                print(f"{PROG}: warning: {message}", file=sys.stderr)
    seconds = time.perf_counter() - start
    _save(gan, args.out)

    steps_run = int(keras.ops.convert_to_numpy(gan.generator_optimizer.iterations))
    epochs_run = len(history.history.get("loss", []))
    losses = ", ".join(
        f"{key} {history.history[key][-1]:.4f}"
        for key in ("d_loss", "g_loss", "reconstruction_loss")
        if history.history.get(key)
    )
    if calibrated:
        calibration = (
            f"yes, on the first {min(len(x), gan_init_model.CALIBRATION_SAMPLES)} "
            f"samples"
        )
    elif gan.calibration:
        calibration = "no: it failed (see the warning above)"
    else:
        calibration = f"no (recipe {args.recipe!r} transfers the kernels as trained)"
    layers = snapshot_of_model(gan).kernel_layers()
    print(
        f"Done: {steps_run} steps ({epochs_run} epoch"
        f"{'' if epochs_run == 1 else 's'}) in {seconds:.1f} s.\n"
        f"Final losses: {losses or 'none logged'}\n"
        f"Calibrated: {calibration}\n"
        f"Saved: {args.out}"
    )
    if layers:
        print(
            f"Use it: keras_ganinit.GanPretrainedInitializer(source="
            f"{args.out!r}, layer={layers[0]!r}) as the kernel_initializer of "
            f"the matching layer (layers with a kernel: "
            f"{_shorten(layers)})"
        )
    return 0


def _shorten(names, most=6):
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names)} in all)" if len(names) > most else "")


def _save(model, out):
    """Saves `model` to `out` through a temporary file, never half-written."""
    folder = os.path.dirname(os.path.abspath(out))
    handle, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(out)}.", suffix=".keras", dir=folder
    )
    os.close(handle)
    try:
        model.save(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # As a new file gets; not mkstemp's.
        os.replace(temporary, out)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


# inspect


def _inspect(args):
    _check_model_file(args.source, "SOURCE")
    config = _saved_config(args.source)
    model = _load_model(args.source, "SOURCE")
    is_gan = _is_gan(model)
    target = model.extractor if is_gan else model
    size = os.path.getsize(args.source)
    print(
        f"{args.source}: {type(model).__name__} {model.name!r}, {size / 1024:.0f} KiB"
    )
    if is_gan:
        print(
            f"Extractor {target.name!r}: input {_input_shape(target, 'extractor')}"
            f", {target.count_params():,} parameters"
        )
    _print_options(config, is_gan)
    rows, ratios = _weight_rows(target)
    of = f" (of the extractor {target.name!r})" if is_gan else ""
    print(f"\nLayers with weights{of}:")
    if rows:
        header = ("layer", "class", "variable", "shape", "mean", "std", "min")
        header += ("max", "finite", "sv max/min")
        print(_table(header, rows))
    else:
        print("  none")
    print()
    print(_calibration_verdict(config.get("config", {}), is_gan, ratios))
    return 0


def _print_options(config, is_gan):
    options = config.get("config", {})
    if is_gan:
        print("\nOptions (GanInitModel config):")
        # The 0.1 options (preset, calibrate, ...) are shown when a file has them.
        legacy = (
            "preset",
            "calibrate",
            "input_noise",
            "tied_weights",
            "feature_matching",
        )
        for key in (
            "recipe",
            "adversarial_loss",
            "reconstruction_weight",
            "calibration",
            "calibration_target_std",
            "seed",
            *(key for key in legacy if key in options),
        ):
            value = options.get(key, "(not saved)")
            if key == "calibration_target_std" and value is None:
                value = "None (1, or 0.5 for tanh layers)"
            print(f"  {key}: {value}")
    compiled = config.get("compile_config") or {}
    optimizers = {
        key: value
        for key, value in compiled.items()
        if "optimizer" in key and isinstance(value, (dict, str))
    }
    if optimizers:
        print("Optimizers (compile config):")
        for key, value in optimizers.items():
            print(f"  {key}: {_optimizer_text(value)}")
    elif is_gan:
        print("  optimizers: not saved (the model was saved uncompiled)")


def _optimizer_text(config):
    if isinstance(config, str):
        return config
    inner = config.get("config", {})
    if "inner_optimizer" in inner:  # A LossScaleOptimizer.
        return f"LossScaleOptimizer({_optimizer_text(inner['inner_optimizer'])})"
    settings = []
    for key in OPTIMIZER_KEYS:
        value = inner.get(key)
        if isinstance(value, dict):  # A learning-rate schedule.
            value = value.get("class_name", "schedule")
        if value is not None:
            settings.append(
                f"{key}={value:g}" if _is_float(value) else f"{key}={value}"
            )
    return f"{config.get('class_name', '?')}({', '.join(settings)})"


def _is_float(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _weight_rows(model):
    """Table rows, one per variable, and each checked kernel's sv ratio."""
    import numpy as np

    keras, _ = _keras()
    from keras_ganinit._layers import DEPTHWISE, leaf_layers
    from keras_ganinit.lsuv import scale_variable

    rows, ratios = [], {}
    for layer in leaf_layers(model):
        if not layer.weights:
            continue
        kernel = None if isinstance(layer, DEPTHWISE) else scale_variable(layer)
        for variable in layer.weights:
            value = np.asarray(keras.ops.convert_to_numpy(variable), dtype="float64")
            finite = np.isfinite(value)
            bad = int(value.size - finite.sum())
            stats = [value.mean(), value.std(), value.min(), value.max()]
            ratio = "-"
            if kernel is not None and variable is kernel and bad == 0:
                ratio = _singular_value_ratio(value)
                ratios[layer.name] = ratio
            rows.append(
                [
                    layer.name,
                    type(layer).__name__,
                    variable.name,
                    str(tuple(value.shape)),
                    *([f"{s:.4g}" for s in stats] if value.size else ["-"] * 4),
                    "yes" if bad == 0 else f"NO ({bad} NaN/inf)",
                    ratio if isinstance(ratio, str) else _ratio_text(ratio),
                ]
            )
    return rows, ratios


def _ratio_text(ratio):
    return f"{ratio:.3f}" if ratio < 1000 else f"{ratio:.3g}"


def _singular_value_ratio(kernel):
    """max/min singular value of a kernel as a (fan_in, fan_out) matrix."""
    import numpy as np

    matrix = kernel.reshape(-1, kernel.shape[-1])
    values = np.linalg.svd(matrix, compute_uv=False)
    return float(values.max() / values.min()) if values.min() > 0 else math.inf


def _calibration_verdict(options, is_gan, ratios):
    """Lines on whether `ratios` (kernel name -> sv ratio) show calibration."""
    if is_gan:
        said = (
            f"calibration={options.get('calibration', options.get('calibrate'))} "
            f"(when True, fit calibrates "
            f"the extractor at its end)"
        )
    else:
        said = "not a GanInitModel: no calibration option saved"
    lines = ["Calibration:", f"  config: {said}"]
    if not ratios:
        return "\n".join([*lines, "  kernels: none to check"])
    equal = [name for name, ratio in ratios.items() if ratio <= EQUAL_SINGULAR_VALUES]
    lines.append(
        f"  kernels: {len(equal)} of {len(ratios)} have all singular values "
        f"equal (sv max/min <= {EQUAL_SINGULAR_VALUES})"
    )
    if len(equal) == len(ratios):
        verdict = (
            "consistent with calibration. Calibration makes them equal and "
            "training does not, but an Orthogonal initializer does too: this "
            "is evidence, not proof."
        )
    elif equal:
        unequal = [name for name in ratios if name not in equal]
        verdict = (
            f"partly consistent: calibration makes every kernel's equal, and "
            f"these are not: {_shorten(unequal)} (changed after calibration?)."
        )
    else:
        verdict = (
            "not calibrated, or changed since: calibration would have made them equal."
        )
    return "\n".join([*lines, f"  verdict: {verdict}"])


def _table(header, rows):
    widths = [
        max(len(str(cell)) for cell in column)
        for column in zip(header, *rows, strict=True)
    ]
    lines = [header, *rows]
    return "\n".join(
        "  "
        + "  ".join(
            str(cell).ljust(width) if i < 3 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    )


# report


def _report(args):
    _check_model_file(args.model, "MODEL")
    _check_data_path(args.data, args.key)
    if args.plot:
        _check_plot(args.plot)
    if os.path.isdir(args.data):
        _load_tensorflow(args.debug)
    model = _load_model(args.model, "MODEL")
    is_gan = _is_gan(model)
    target = model.extractor if is_gan else model
    x, what = _load_data(args.data, args.key, target, args.rescale, limit=args.samples)
    if len(x) > args.samples:
        import numpy as np

        chosen = np.random.default_rng(0).choice(len(x), args.samples, replace=False)
        x = x[np.sort(chosen)]
    try:
        from keras_ganinit.activation_report import activation_report
    except ImportError as error:
        raise CliError(
            f"This keras_ganinit has no activation report ({error}). Install a "
            f"version with keras_ganinit.activation_report."
        ) from error
    batch_statistics = args.batch_statistics
    if batch_statistics is None:
        batch_statistics = not is_gan
    try:
        report = activation_report(target, x, batch_statistics=batch_statistics)
    except (TypeError, ValueError) as error:
        raise CliError(str(error)) from error
    print(f"{args.model}: {len(x)} samples from {what}")
    print(report)
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
