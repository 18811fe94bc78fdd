"""Writes tests/data/*: .keras files saved by keras_ganinit 0.2.0 (before the _src move)."""
import json, zipfile
import keras, numpy as np
import keras_ganinit
from keras import layers
keras.utils.set_random_seed(0)
x = np.random.default_rng(0).random((64, 8, 8, 1)).astype("float32")
ext = keras.Sequential([keras.Input((8, 8, 1)),
    layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1"),
    layers.MaxPooling2D(2, name="pool"),
    layers.Flatten(name="flat"),
    layers.Dense(8, activation="relu", name="fe")], name="extractor")
disc = keras.Sequential([keras.Input((8, 8, 1)), layers.Flatten(), layers.Dense(1)], name="disc")
gan = keras_ganinit.GanInitModel(ext, discriminator=disc, decoder=keras_ganinit.mirror(ext, tied=True, seed=1), seed=0)
gan.compile()
gan.fit(x, steps=2, batch_size=16, verbose=0)
gan.save("tests/data/gan_0_2_0.keras")
np.save("tests/data/gan_0_2_0_input.npy", x[:4])
np.save("tests/data/gan_0_2_0_output.npy", keras.ops.convert_to_numpy(gan(x[:4])))
# a classifier built with the package's initializer, as 0.2 saved it
clf = keras.Sequential([keras.Input((8, 8, 1)),
    layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1",
        kernel_initializer=keras_ganinit.GanPretrainedInitializer(source="tests/data/gan_0_2_0.keras", layer="conv1")),
    layers.Flatten(), layers.Dense(3, name="head")], name="classifier")
clf.save("tests/data/classifier_0_2_0.keras")
np.save("tests/data/classifier_0_2_0_output.npy", keras.ops.convert_to_numpy(clf(x[:4])))
print(keras_ganinit.__version__)
with zipfile.ZipFile("tests/data/gan_0_2_0.keras") as z:
    cfg = json.loads(z.read("config.json"))
print(cfg["module"], cfg["class_name"], cfg.get("registered_name"))
def walk(c, out):
    if isinstance(c, dict):
        if "module" in c and "class_name" in c and "keras_ganinit" in str(c.get("module")):
            out.add((c["module"], c["class_name"], c.get("registered_name")))
        for v in c.values(): walk(v, out)
    elif isinstance(c, list):
        for v in c: walk(v, out)
s=set(); walk(cfg, s); print(sorted(s))
