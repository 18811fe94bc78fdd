"""The command starts fast and quietly: no Keras before its arguments are checked.

`keras-ganinit --help` and mistakes in the arguments answer without importing
Keras or a backend (TensorFlow alone takes seconds to import), and a
subcommand's default output has none of TensorFlow's or Abseil's start-up
lines; `--debug` shows them. The command lives in its own light package,
`keras_ganinit_cli`, so `import keras_ganinit` needs no exception for it: it
imports the whole API in every process, whatever the process's arguments.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import keras
import pytest
from helpers import dense_extractor, imported_names

import keras_ganinit
from keras_ganinit._src.pretraining.defaults import DEFAULT_STEPS
from keras_ganinit_cli import pretrain

HEAVY = ("keras", "tensorflow", "jax", "torch", "numpy")
# Lines TensorFlow's C++ side and Abseil write while TensorFlow starts up.
NOISE = re.compile(r"^(WARNING: All log messages|[IWEF]\d{4} |.*cuda|.*oneDNN)", re.M)


def run(*command, cwd, importtime=False):
    """(exit code, stdout, stderr) of `python [-X importtime] -m keras_ganinit_cli`."""
    flags = ["-X", "importtime"] if importtime else []
    completed = subprocess.run(
        [sys.executable, *flags, "-m", "keras_ganinit_cli", *map(str, command)],
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
    assert "keras_ganinit_cli" in modules  # the parse above read the right lines
    assert "keras_ganinit" not in modules
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


def test_the_help_shows_fits_own_default_length():
    # Written twice (the command cannot import the package for --help).
    assert pretrain.DEFAULT_STEPS == DEFAULT_STEPS


def test_importing_the_package_registers_every_serializable_class():
    """Every module that registers a Keras class is imported with the package."""
    package = pathlib.Path(keras_ganinit.__file__).parent
    registering = {
        ".".join(path.relative_to(package.parent).with_suffix("").parts)
        for path in package.rglob("*.py")
        if "register_keras_serializable(" in path.read_text(encoding="utf-8")
    }
    assert len(registering) >= 6
    assert registering <= set(sys.modules), sorted(registering - set(sys.modules))


_LOAD_UNDER_ARGV = """
import sys, keras, keras_ganinit
assert sys.argv[1:] == ["-m", "keras_ganinit", "pretrain"], sys.argv
assert "GanInitModel" in dir(keras_ganinit) and "calibrate" in dir(keras_ganinit)
gan = keras.saving.load_model(sys.argv[0].replace("load.py", "gan.keras"))
assert isinstance(gan, keras_ganinit.GanInitModel), type(gan)
print("loaded", type(gan).__name__)
"""


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="independent of the backend (the subprocess runs on JAX): checked "
    "once, in the TensorFlow run",
)
def test_the_package_imports_whole_under_any_argv(tmp_path):
    # 0.3 guessed from argv whether it was the command, and then registered
    # nothing: a script given "-m keras_ganinit" could not load a saved GAN.
    gan = keras_ganinit.GanInitModel(dense_extractor(), seed=0)
    gan.build((None, 64))
    gan.save(tmp_path / "gan.keras")
    script = tmp_path / "load.py"
    script.write_text(_LOAD_UNDER_ARGV)
    # .keras files load on any backend; JAX's import is the quickest.
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    completed = subprocess.run(
        [sys.executable, str(script), "-m", "keras_ganinit", "pretrain"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "loaded GanInitModel" in completed.stdout


def test_the_package_never_imports_the_command():
    # The command is a client of the package, never the other way round
    # (but for keras_ganinit/__main__.py, which runs it).
    package = pathlib.Path(keras_ganinit.__file__).parent
    for path in package.rglob("*.py"):
        if path.name != "__main__.py":
            names = list(imported_names(path))
            assert not [name for name in names if "keras_ganinit_cli" in name], path


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
