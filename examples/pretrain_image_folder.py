"""Pretrain a keras.applications backbone on a folder of unlabeled images.

The quickstart for real networks: `GanInitModel` pretrains ResNet50 (or any
`keras.applications` CNN, built with `weights=None`) on the images of a
folder, labels ignored, and saves it; `with_pretrained_initializers` then
starts a new instance of the same backbone from those weights, and a
classifier is put on top of it as in plain Keras.

Run: python examples/pretrain_image_folder.py IMAGES_DIR [--backbone ResNet50]
     [--image-size 32] [--epochs 10] [--out pretrained.keras]
"""

import argparse

import keras
from keras import layers

import keras_ganinit


def pretrain(
    folder, backbone="ResNet50", image_size=32, epochs=10, out=None, run_eagerly=False
):
    """Pretrains `backbone` on the images in `folder`; returns the GanInitModel.

    `run_eagerly=True` skips compiling the train step: slower steps, no
    compile time (for a quick try of a large backbone on a CPU).
    """
    images = keras.utils.image_dataset_from_directory(
        folder, labels=None, image_size=(image_size, image_size), batch_size=32
    )
    make = getattr(keras.applications, backbone)
    extractor = make(
        weights=None, include_top=False, input_shape=(image_size, image_size, 3)
    )
    gan = keras_ganinit.GanInitModel(extractor)  # mirror and discriminator built
    gan.compile(run_eagerly=run_eagerly)
    gan.fit(images, epochs=epochs)  # then calibrated on up to 512 of the images
    if out:
        gan.save(out)
    return gan


def classifier(source, classes, backbone="ResNet50", image_size=32):
    """A new backbone that starts from `source`'s weights, with a softmax head."""
    make = getattr(keras.applications, backbone)
    features = keras_ganinit.with_pretrained_initializers(
        make(weights=None, include_top=False, input_shape=(image_size, image_size, 3)),
        source,
    )
    return keras.Sequential(
        [
            features,
            layers.GlobalAveragePooling2D(),
            layers.Dense(classes, activation="softmax"),
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", help="a folder of images (subfolders allowed)")
    parser.add_argument("--backbone", default="ResNet50")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--out", default="pretrained.keras")
    args = parser.parse_args(argv)
    pretrain(args.images, args.backbone, args.image_size, args.epochs, args.out)
    model = classifier(args.out, args.classes, args.backbone, args.image_size)
    model.summary()
    print(f"Pretrained weights saved to {args.out}; the classifier starts from them.")
    return model


if __name__ == "__main__":
    main()
