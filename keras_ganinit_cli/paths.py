"""The paths on the command line, checked before Keras is imported.

A missing or misnamed file answers at once, with what to pass instead.
"""

import os

from keras_ganinit_cli.errors import CliError, UsageError

APPLICATIONS = "keras.applications:"
ARRAY_SUFFIXES = (".npy", ".npz", ".csv")


def check_model_file(path, what):
    """Fails unless `path` is a .keras file; needs no Keras, so answers at once.

    `what` names the argument in the message: EXTRACTOR, MODEL or SOURCE.
    """
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


def check_data(path, key):
    """Fails unless DATA `path` (and --key `key`) can name samples."""
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


def check_labels_path(path, data_path):
    """Fails unless --labels `path` can name labels for DATA `data_path`."""
    if os.path.isdir(data_path):
        raise UsageError(
            "--labels gives one label per sample of an array file; a folder of "
            "images has no fixed order to pair them with. Save the images and "
            "their labels as arrays (np.save), or leave --labels out."
        )
    if not os.path.isfile(path) or not path.lower().endswith((".npy", ".npz")):
        raise CliError(
            f"--labels {path!r} is not a .npy or .npz file. Save the labels with "
            f"np.save('labels.npy', y), one integer class per sample of DATA."
        )
