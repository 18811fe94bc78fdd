"""Files saved by earlier releases load with today's code.

tests/data holds a GanInitModel (tied mirror, small discriminator) and a
classifier built with GanPretrainedInitializer, both saved by keras_ganinit
0.2.0 before the implementation moved to keras_ganinit/_src/ (the script
that wrote them is beside them). Keras finds our classes by their registered
names, so the old module paths in the files do not matter. Files saved by 0.1
are covered in test_gan_init_model.py (a real file rewritten to 0.1's keys).
"""

import json
import pathlib
import shutil
import zipfile

import keras
import numpy as np

import keras_ganinit

DATA = pathlib.Path(__file__).parent / "data"
# The expected outputs were computed on another machine, with other float32
# kernels (oneDNN there, maybe Eigen here), which sum in another order. Over
# the few hundred terms of a layer that moves a result by some 1e-5 relative
# (3.5e-5 seen on TensorFlow's Eigen path), so 1e-4 is float32 reordering,
# while a wrong weight or a wrong layer moves it by orders of magnitude more.
CROSS_MACHINE = {"rtol": 1e-4, "atol": 1e-5}


def _modules(config, found):
    if isinstance(config, dict):
        if "keras_ganinit" in str(config.get("module", "")):
            found.add(config["module"])
        for value in config.values():
            _modules(value, found)
    elif isinstance(config, list):
        for value in config:
            _modules(value, found)
    return found


def test_the_files_name_the_old_module_paths():
    # The files really are from before the move: they name 0.2.0's modules.
    with zipfile.ZipFile(DATA / "gan_0_2_0.keras") as archive:
        config = json.loads(archive.read("config.json"))
    assert _modules(config, set()) == {
        "keras_ganinit.gan_init_model",
        "keras_ganinit._tied",
    }


def test_a_gan_saved_by_0_2_0_loads_and_computes_the_same(tmp_path):
    path = tmp_path / "gan.keras"
    shutil.copy(DATA / "gan_0_2_0.keras", path)
    gan = keras.saving.load_model(path)
    assert isinstance(gan, keras_ganinit.GanInitModel)
    x = np.load(DATA / "gan_0_2_0_input.npy")
    expected = np.load(DATA / "gan_0_2_0_output.npy")
    got = keras.ops.convert_to_numpy(gan(x))
    np.testing.assert_allclose(got, expected, **CROSS_MACHINE)
    assert gan.seed == 0 and gan.recipe == "default"
    # It still transfers: the initializer reads the loaded file.
    init = keras_ganinit.GanPretrainedInitializer(source=str(path), layer="conv1")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(init((3, 3, 1, 4))),
        keras.ops.convert_to_numpy(gan.extractor.get_layer("conv1").kernel),
    )


def test_a_classifier_saved_by_0_2_0_loads_with_its_weights(tmp_path):
    path = tmp_path / "classifier.keras"
    shutil.copy(DATA / "classifier_0_2_0.keras", path)
    model = keras.saving.load_model(path)
    x = np.load(DATA / "gan_0_2_0_input.npy")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x)),
        np.load(DATA / "classifier_0_2_0_output.npy"),
        **CROSS_MACHINE,
    )
    initializer = model.get_layer("conv1").kernel_initializer
    assert isinstance(initializer, keras_ganinit.GanPretrainedInitializer)
