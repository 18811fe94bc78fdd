"""The keras-ganinit command: pretrain, inspect and report, run as users run it.

Each subprocess loads Keras (seconds), so the command runs as a subprocess
only where that is the point (a whole pretraining, the exit code and stderr
a shell sees), and those tests are marked `large`; argument and file errors
call `main(argv)` in this process.
"""

import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import conv_extractor
from keras import layers

import keras_ganinit

# the console script keras-ganinit calls this main; tests run it in-process
from keras_ganinit_cli.command import main


def run(*args, cwd):
    """`python -m keras_ganinit_cli ARGS` in `cwd`: (exit code, stdout, stderr)."""
    completed = subprocess.run(
        [sys.executable, "-m", "keras_ganinit_cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return completed.returncode, completed.stdout, completed.stderr


def error_lines(stderr):
    """Our own stderr lines (TensorFlow may log others while loading)."""
    return [line for line in stderr.splitlines() if line.startswith("keras-ganinit:")]


@pytest.fixture(autouse=True)
def _restore_environment(monkeypatch):
    # main() sets TF_CPP_MIN_LOG_LEVEL; keep that out of other tests.
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="module")
def files(digits, tmp_path_factory):
    """A folder with models and data files: {name: path}."""
    folder = tmp_path_factory.mktemp("cli")
    x = digits[0]
    paths = {name: folder / name for name in ("digits.npy", "digits.csv")}
    np.save(paths["digits.npy"], x)
    with open(paths["digits.csv"], "w") as file:
        file.write(",".join(f"pixel{i}" for i in range(64)) + "\n")
        for sample in x[:300]:
            file.write(",".join(f"{value:g}" for value in sample) + "\n")
    paths["two.npz"] = folder / "two.npz"
    np.savez(paths["two.npz"], train=x, test=x[:10])
    paths["bad.csv"] = folder / "bad.csv"
    paths["bad.csv"].write_text("a,b\n1,2\n3,oops\n")
    paths["fake.keras"] = folder / "fake.keras"
    paths["fake.keras"].write_text("not a zip archive")
    images = folder / "images"
    for i in range(24):  # In two subfolders: labels are ignored.
        (images / "ab"[i % 2]).mkdir(parents=True, exist_ok=True)
        pixels = (x[i].reshape(8, 8, 1) * 255).astype("uint8")
        keras.utils.save_img(images / "ab"[i % 2] / f"{i}.png", pixels, scale=False)
    paths["images"] = images
    keras.utils.set_random_seed(0)
    for name, model in (
        (
            "extractor.keras",
            keras.Sequential(
                [
                    keras.Input((64,)),
                    layers.Dense(32, activation="relu", name="fe1"),
                    layers.Dense(16, activation="relu", name="fe2"),
                ],
                name="extractor",
            ),
        ),
        ("conv.keras", conv_extractor()),
        (
            "dead.keras",
            keras.Sequential(
                [
                    keras.Input((64,)),
                    layers.Dense(
                        16,
                        activation="relu",
                        bias_initializer=keras.initializers.Constant(-10.0),
                        name="dead",
                    ),
                ],
                name="deadnet",
            ),
        ),
    ):
        paths[name] = folder / name
        model.save(paths[name])
    return paths


@pytest.fixture(scope="module")
def pretrained(files):
    """`pretrain` run once, from the CSV with a header: (path, result)."""
    out = files["digits.csv"].parent / "pretrained.keras"
    result = run(
        "pretrain",
        files["extractor.keras"],
        files["digits.csv"],
        "--out",
        out,
        "--steps",
        20,
        "--seed",
        0,
        cwd=out.parent,
    )
    return out, result


@pytest.mark.large
def test_pretrain_saves_a_calibrated_model_and_says_how_to_use_it(pretrained):
    out, (code, stdout, stderr) = pretrained
    assert code == 0, stderr
    assert "300 samples from" in stdout and "header line skipped" in stdout
    assert "Done: 20 steps (1 epoch)" in stdout
    assert "Final losses: d_loss " in stdout and "reconstruction_loss " in stdout
    assert "Calibrated: yes" in stdout
    assert f"Saved: {out}" in stdout
    assert f"GanPretrainedInitializer(source='{out}', layer='fe1')" in stdout
    assert not error_lines(stderr)
    # Written through a temporary file, which is gone.
    assert sorted(p.name for p in out.parent.glob("*pretrained*")) == [out.name]
    gan = keras.saving.load_model(out, compile=False)
    assert isinstance(gan, keras_ganinit.GanInitModel)
    assert [layer.name for layer in gan.extractor.layers] == ["fe1", "fe2"]
    init = keras_ganinit.GanPretrainedInitializer(source=str(out), layer="fe1")
    kernel = keras.ops.convert_to_numpy(init((64, 32)))
    np.testing.assert_allclose(
        kernel, keras.ops.convert_to_numpy(gan.extractor.layers[0].kernel)
    )


@pytest.mark.large
def test_pretrain_reads_a_folder_of_images(files, tmp_path):
    out = tmp_path / "conv_pretrained.keras"
    code, stdout, stderr = run(
        "pretrain",
        files["conv.keras"],
        files["images"],
        "--out",
        out,
        "--steps",
        4,
        "--batch-size",
        8,
        cwd=tmp_path,
    )
    assert code == 0, stderr
    assert "on 24 samples from the folder" in stdout
    assert "(8x8 grayscale), divided by 255" in stdout
    assert "layer='conv1'" in stdout
    gan = keras.saving.load_model(out, compile=False)
    assert gan.extractor.name == "conv_extractor"


def test_pretrain_paper_recipe_by_epochs_in_process(files, tmp_path, capsys):
    out = tmp_path / "paper.keras"
    argv = ["pretrain", str(files["extractor.keras"]), str(files["two.npz"])]
    argv += ["--key", "test", "--out", str(out), "--epochs", "2"]
    argv += ["--recipe", "paper", "--batch-size", "5"]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    assert "Done: 4 steps (2 epochs)" in stdout
    assert "Calibrated: no (recipe 'paper'" in stdout
    assert out.exists()


def test_pretrain_refuses_to_overwrite(files, tmp_path, capsys):
    out = tmp_path / "pretrained.keras"
    out.write_bytes(b"a file the user owns")
    before = out.read_bytes()
    argv = ["pretrain", str(files["extractor.keras"]), str(files["digits.npy"])]
    assert main([*argv, "--out", str(out)]) == 1
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and "exists already" in message
    assert "--overwrite" in message
    # Never the extractor's own file, even with --overwrite.
    extractor = files["extractor.keras"]
    original = extractor.read_bytes()
    assert main([*argv, "--out", str(extractor), "--overwrite"]) == 1
    assert "is the EXTRACTOR file itself" in capsys.readouterr().err
    assert out.read_bytes() == before and extractor.read_bytes() == original


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        ([], 2, "required: COMMAND"),
        (
            ["pretrain", "E", "D", "--out", "o.keras", "--steps", "5", "--epochs", "1"],
            2,
            "not allowed with argument --steps",
        ),
        (["pretrain", "E", "D", "--out", "o.keras", "--steps", "0"], 2, ">= 1"),
        (
            ["pretrain", "keras.applications:MobileNetV2", "D", "--out", "o.keras"],
            2,
            "needs --input-shape H,W,C",
        ),
        (["report", "M.keras", "D", "--samples", "x"], 2, "integer"),
        (["inspect", "missing.keras"], 1, "does not exist"),
    ],
)
def test_usage_errors_are_one_line(args, code, expected, capsys):
    assert main(args) == code
    captured = capsys.readouterr()
    assert captured.err.startswith("keras-ganinit: error: ")
    assert captured.err.count("\n") == 1 and expected in captured.err


def test_file_errors_say_what_to_do(files, tmp_path, capsys):
    def error(*args):
        assert main([str(arg) for arg in args]) == 1
        message = capsys.readouterr().err
        assert message.count("\n") == 1 and "Traceback" not in message
        return message

    out = ["--out", tmp_path / "o.keras"]
    extractor, npy = files["extractor.keras"], files["digits.npy"]
    assert "line 3, column 2: 'oops' is not a number" in error(
        "pretrain", extractor, files["bad.csv"], *out
    )
    assert "holds 2 arrays (train, test). Pick one with --key" in error(
        "pretrain", extractor, files["two.npz"], *out
    )
    message = error("pretrain", files["conv.keras"], npy, *out)
    assert "shape (64,)" in message and "(8, 8, 1)" in message
    assert "The data is flat" in message
    assert "must end in .keras" in error("pretrain", extractor, npy, "--out", "o.h5")
    assert not (tmp_path / "o.keras").exists()


def test_an_unknown_keras_application_lists_the_valid_names(files, tmp_path, capsys):
    argv = ["pretrain", "keras.applications:MobileNetV9", str(files["digits.npy"])]
    argv += ["--out", str(tmp_path / "o.keras"), "--input-shape", "32,32,3"]
    assert main(argv) == 2
    message = capsys.readouterr().err
    assert "Did you mean MobileNetV2?" in message
    assert "Valid names: ConvNeXtBase" in message and "MobileNetV3Small" in message


def test_help_shows_an_example(capsys):
    for command in ("pretrain", "inspect", "report"):
        assert main([command, "--help"]) == 0
        assert f"keras-ganinit {command} " in capsys.readouterr().out


@pytest.mark.large
def test_inspect_shows_weights_options_and_calibration(pretrained):
    code, stdout, stderr = run("inspect", pretrained[0], cwd=pretrained[0].parent)
    assert code == 0, stderr
    assert "GanInitModel" in stdout and "of the extractor 'extractor'" in stdout
    for name in ("fe1", "fe2", "kernel", "bias", "(64, 32)", "sv max/min"):
        assert name in stdout
    options = ("recipe: default", "reconstruction_weight: 1.0", "calibration: True")
    for option in (*options, "seed: 0"):
        assert option in stdout
    assert "generator_optimizer: Adam(learning_rate=0.0002, beta_1=0.5" in stdout
    assert "kernels: 2 of 2 have all singular values equal" in stdout
    assert "consistent with calibration" in stdout


def test_inspect_of_an_uncalibrated_model_in_process(files, capsys):
    assert main(["inspect", str(files["extractor.keras"])]) == 0
    stdout = capsys.readouterr().out
    assert "not a GanInitModel" in stdout
    assert "kernels: 0 of 2" in stdout and "not calibrated" in stdout


@pytest.mark.large
def test_report_prints_the_table_and_plots(pretrained, tmp_path):
    plot = tmp_path / "activations.png"
    code, stdout, stderr = run(
        "report", pretrained[0], pretrained[0].parent / "digits.npy",
        "--plot", plot, "--samples", 256, "--check", cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, stderr
    assert "Activation report of 'extractor' on 256 samples" in stdout
    assert "fe1" in stdout and "fe2" in stdout
    assert "Check passed" in stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_with_labels_prints_a_linear_probe(files, digits, tmp_path, capsys):
    labels = tmp_path / "labels.npy"
    np.save(labels, digits[1])
    argv = ["report", str(files["extractor.keras"]), str(files["digits.npy"])]
    assert main([*argv, "--labels", str(labels), "--samples", "64"]) == 0
    stdout = capsys.readouterr().out
    assert "Activation report of 'extractor' on 64 samples" in stdout
    line = next(x for x in stdout.splitlines() if x.startswith("Linear probe"))
    assert "validation accuracy" in line and "10 classes" in line
    assert "1437 training and 360 validation samples" in line
    accuracy = float(line.split("validation accuracy ")[1].split()[0])
    assert accuracy > 0.4  # 16 random ReLU features of the digits: 0.64, chance 0.1
    np.save(labels, digits[1][:100])
    assert main([*argv, "--labels", str(labels)]) == 1
    assert "holds 100 labels, but DATA has 1797 samples" in capsys.readouterr().err
    argv_images = ["report", str(files["conv.keras"]), str(files["images"])]
    assert main([*argv_images, "--labels", str(labels)]) == 2
    assert "a folder of images has no fixed order" in capsys.readouterr().err


def test_report_check_fails_on_dead_units(files, capsys):
    argv = ["report", str(files["dead.keras"]), str(files["digits.npy"]), "--check"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "'dead' (Dense, relu): dead" in captured.out
    assert captured.err.count("\n") == 1 and "--check failed" in captured.err


@pytest.mark.large
def test_errors_are_one_line_and_debug_shows_the_traceback(files):
    code, _, stderr = run(
        "inspect", files["fake.keras"], cwd=files["fake.keras"].parent
    )
    assert code == 1
    assert error_lines(stderr) == [
        "keras-ganinit: error: SOURCE "
        f"'{files['fake.keras']}' is not a Keras model file: a .keras file is "
        "the zip archive model.save('model.keras') writes. Pass such a file."
    ]
    assert "Traceback" not in stderr
    code, _, stderr = run(
        "--debug", "inspect", files["fake.keras"], cwd=files["fake.keras"].parent
    )
    assert code == 1
    assert "Traceback (most recent call last)" in stderr and "CliError" in stderr


def test_a_nan_stop_is_one_line_and_saves_nothing(files, tmp_path, monkeypatch, capsys):
    def diverge(self, *args, **kwargs):
        raise FloatingPointError("GanInitModel.fit stopped: the losses became NaN.")

    monkeypatch.setattr(keras_ganinit.GanInitModel, "fit", diverge)
    out = tmp_path / "nan.keras"
    argv = ["pretrain", str(files["extractor.keras"]), str(files["digits.npy"])]
    assert main([*argv, "--out", str(out)]) == 1
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and "became NaN. Nothing was saved." in message
    assert list(tmp_path.iterdir()) == []


def test_images_are_rescaled_unless_the_model_rescales_them(files, tmp_path, capsys):
    plain = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3)])
    own = keras.Sequential(
        [keras.Input((8, 8, 1)), layers.Rescaling(1 / 255), layers.Conv2D(2, 3)],
        name="own",
    )
    for name, model in (("plain.keras", plain), ("own.keras", own)):
        model.save(tmp_path / name)
    for name, expected in (
        ("plain.keras", "(8x8 grayscale), divided by 255\n"),
        ("own.keras", "(8x8 grayscale), kept in 0-255 ('own' rescales its input"),
    ):
        argv = ["report", str(tmp_path / name), str(files["images"])]
        assert main([*argv, "--samples", "8"]) == 0
        assert expected in capsys.readouterr().out
