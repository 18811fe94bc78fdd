"""The README's demo runs end to end and both classifiers learn."""

import importlib.util
import pathlib

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def test_digits_demo_runs_and_both_classifiers_learn(capsys):
    spec = importlib.util.spec_from_file_location(
        "digits_demo", EXAMPLES / "digits_demo.py"
    )
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    results = demo.main(["--pretrain-epochs", "2", "--epochs", "3"])
    printed = capsys.readouterr().out
    assert set(results) == {"GAN init (default)", "GAN init (paper)", "HeNormal"}
    assert all(name in printed for name in results)
    for accuracies in results.values():
        assert len(accuracies) == 3
        assert accuracies[-1] > 0.3  # ten classes: chance is 0.1


def test_image_folder_quickstart_pretrains_resnet50_and_starts_a_classifier(tmp_path):
    import keras
    import numpy as np
    import tensorflow as tf
    from conftest import EAGER_IS_FASTER

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
