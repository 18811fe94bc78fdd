"""The files the command writes: --out and --plot, checked before any work.

A model is saved through a temporary file in the same folder, so --out is
never left half-written.
"""

import os
import tempfile

from keras_ganinit_cli.errors import CliError


def check_out(out, extractor, overwrite):
    """Fails unless `pretrain` may save to `out`.

    `extractor`: the EXTRACTOR file, never overwritten; None for
    keras.applications:NAME.
    """
    if not out.endswith(".keras"):
        raise CliError(
            f"--out {out!r} must end in .keras, the format Keras saves models "
            f"in. Pass e.g. --out pretrained.keras."
        )
    _check_folder("--out", out)
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


def check_plot(path):
    """Fails unless the folder of --plot `path` exists."""
    _check_folder("--plot", path)


def _check_folder(option, path):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(
            f"The folder of {option} {path!r} does not exist ({folder}). Create "
            f"it first, or choose another path."
        )


def save_model(model, out):
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
