"""The command starts fast and quietly: no Keras before its arguments are checked.

`keras-ganinit --help` and mistakes in the arguments answer without importing
Keras or a backend (TensorFlow alone takes seconds to import), and a
subcommand's default output has none of TensorFlow's or Abseil's start-up
lines; `--debug` shows them.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import keras
import pytest
from helpers import dense_extractor

from keras_ganinit._src.cli import jobs

HEAVY = ("keras", "tensorflow", "jax", "torch", "numpy")
# Lines TensorFlow's C++ side and Abseil write while TensorFlow starts up.
NOISE = re.compile(r"^(WARNING: All log messages|[IWEF]\d{4} |.*cuda|.*oneDNN)", re.M)


def run(*command, cwd, importtime=False):
    """(exit code, stdout, stderr) of `python [-X importtime] -m keras_ganinit ...`."""
    flags = ["-X", "importtime"] if importtime else []
    completed = subprocess.run(
        [sys.executable, *flags, "-m", "keras_ganinit", *map(str, command)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return completed.returncode, completed.stdout, completed.stderr


def imported(importtime_stderr):
    """The top-level packages `python -X importtime` says were imported."""
    names = re.findall(r"^import time:.*\|\s*(\S+)$", importtime_stderr, re.M)
    return {name.strip().split(".")[0] for name in names}


@pytest.mark.parametrize(
    "command",
    [
        ["--help"],
        ["pretrain", "--help"],
        ["report", "model.keras"],  # misused: DATA missing
        ["inspect", "missing.keras"],  # a file error
        ["pretrain", "keras.applications:MobileNetV2", "x.npy", "--out", "o.keras"],
    ],
)
def test_help_and_argument_errors_import_no_keras(command, tmp_path):
    code, stdout, stderr = run(*command, cwd=tmp_path, importtime=True)
    assert code == (0 if "--help" in command else 1 if "inspect" in command else 2)
    modules = imported(stderr)
    assert "keras_ganinit" in modules  # the parse above read the right lines
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    if code:
        assert [
            line for line in stderr.splitlines() if line.startswith("keras-ganinit:")
        ]


def test_the_console_script_answers_without_keras(tmp_path):
    script = shutil.which("keras-ganinit", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the keras-ganinit script is not installed beside this Python")
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", script, "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0 and "usage: keras-ganinit" in completed.stdout
    assert not imported(completed.stderr) & set(HEAVY)


def test_the_command_registers_every_serializable_class():
    """jobs.SERIALIZABLE names each module that registers a Keras class."""
    package = pathlib.Path(jobs.__file__).parents[3]  # keras_ganinit/
    registering = {
        ".".join(path.relative_to(package.parent).with_suffix("").parts)
        for path in package.rglob("*.py")
        if "register_keras_serializable(" in path.read_text(encoding="utf-8")
    }
    assert len(registering) >= 5
    assert registering == set(jobs.SERIALIZABLE)


@pytest.mark.large
def test_subcommands_print_no_tensorflow_start_up_lines(tmp_path):
    model = dense_extractor()
    model.save(tmp_path / "extractor.keras")
    code, stdout, stderr = run("inspect", "extractor.keras", cwd=tmp_path)
    assert code == 0, stderr
    assert "Layers with weights" in stdout
    assert not NOISE.search(stdout) and not NOISE.search(stderr), stderr
    assert stderr == ""
    if keras.backend.backend() == "tensorflow":
        # The lines are there to hide: --debug shows them.
        code, _, stderr = run("--debug", "inspect", "extractor.keras", cwd=tmp_path)
        assert code == 0 and NOISE.search(stderr), stderr
