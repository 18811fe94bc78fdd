"""The README's demo runs end to end and every method's classifier learns."""

import importlib.util
import os
import pathlib

import pytest

# Subprocesses, whole examples and backbones: run with --run-large (.ci/run).
pytestmark = pytest.mark.large

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def test_digits_demo_compares_every_method_and_saves_its_plot(capsys, tmp_path):
    spec = importlib.util.spec_from_file_location(
        "digits_demo", EXAMPLES / "digits_demo.py"
    )
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    plot, pictures = tmp_path / "demo.png", tmp_path / "pictures"
    results = demo.main(
        ["--seeds", "1", "--epochs", "3", "--steps", "20", "--plot", str(plot)]
        + ["--pictures", str(pictures)]
    )
    printed = capsys.readouterr().out
    expected = {"HeNormal", "LSUV", "Calibration alone", "GAN init"}
    if demo.anyinit is not None:
        expected.add("AnyInit (empirical)")
    assert set(results) == expected
    table = printed[printed.index("Test accuracy, mean") :]
    assert all(name in table for name in results)
    assert "Epoch 3:" in printed and " is best, " in printed
    for result in results.values():
        assert result["accuracy"].shape == (1, 3)
        assert result["accuracy"][0, -1] > 0.3  # ten classes: chance is 0.1
        assert result["setup_s"].shape == result["train_s"].shape == (1,)
    assert plot.stat().st_size > 10_000
    assert sorted(os.listdir(pictures)) == [
        "first_layer_filters.png",
        *(f"reconstructions_epoch_00{epoch}.png" for epoch in range(1, 5)),
    ]


def test_image_folder_quickstart_pretrains_resnet50_and_starts_a_classifier(tmp_path):
    import keras
    import numpy as np
    import tensorflow as tf
    from helpers import EAGER_IS_FASTER

    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(24):  # coloured squares on noise, as PNG files
        image = rng.integers(0, 60, size=(40, 40, 3), dtype="uint8")
        top, left = rng.integers(0, 20, size=2)
        image[top : top + 16, left : left + 16] = rng.integers(100, 255, size=3)
        (folder / f"{i}.png").write_bytes(tf.io.encode_png(image).numpy())
    spec = importlib.util.spec_from_file_location(
        "pretrain_image_folder", EXAMPLES / "pretrain_image_folder.py"
    )
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    path = str(tmp_path / "pretrained.keras")
    gan = example.pretrain(
        str(folder), "ResNet50", 32, epochs=1, out=path, run_eagerly=EAGER_IS_FASTER
    )
    assert gan.generator_optimizer.iterations.numpy() == 1  # 24 images, batch 32
    model = example.classifier(path, classes=3)
    backbone = model.layers[0]
    for layer in gan.extractor.layers[1:]:  # after its InputLayer
        theirs = backbone.get_layer(layer.name).weights
        for a, b in zip(layer.weights, theirs, strict=True):
            assert np.array_equal(
                keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
            ), layer.name
    x = rng.uniform(0, 255, size=(6, 32, 32, 3)).astype("float32")
    model.compile("adam", "sparse_categorical_crossentropy", run_eagerly=True)
    model.fit(x, np.array([0, 1, 2, 0, 1, 2]), epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (6, 3)


def test_sequence_pretraining_example_transfers_and_draws(capsys, tmp_path):
    spec = importlib.util.spec_from_file_location(
        "pretrain_sequences", EXAMPLES / "pretrain_sequences.py"
    )
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    for recipe in ("default", "next_step"):
        results = example.main(
            ["--recipe", recipe, "--steps", "20", "--epochs", "10"]
            + ["--out", str(tmp_path / f"{recipe}.keras")]
            + ["--pictures", str(tmp_path / recipe)]
        )
        assert set(results) == {"calibration alone", f"pretrained ({recipe})"}
        assert all(accuracy > 0.15 for accuracy in results.values())  # chance: 0.1
        assert os.listdir(tmp_path / recipe) == ["reconstructions_epoch_001.png"]
    assert "test accuracy" in capsys.readouterr().out
