"""One GanInitModel train step from fixed weights, for parity and distribution tests.

    python one_step.py OUT.npz [single|mirrored|data_parallel]

Run with KERAS_BACKEND set. Builds a small dense GanInitModel (SGD for both
players), sets every trainable weight from a fixed NumPy generator, runs one
`train_on_batch` on the first 64 digits, and saves the trainable weights (keyed
by position) with their paths to OUT.npz.
"""

import os
import sys


def main(out, mode="single"):
    if mode == "mirrored":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
    if mode == "data_parallel":
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

    import contextlib

    import keras
    import numpy as np
    from keras import layers
    from sklearn.datasets import load_digits

    import keras_ganinit

    scope = contextlib.nullcontext()
    replicas = 1
    if mode == "mirrored":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        scope, replicas = strategy.scope(), strategy.num_replicas_in_sync
    elif mode == "data_parallel":
        import jax

        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=jax.devices())
        )
        replicas = len(jax.devices())

    with scope:
        extractor = keras.Sequential(
            [
                keras.Input((64,)),
                layers.Dense(32, activation="relu", name="fe1"),
                layers.Dense(16, activation="tanh", name="fe2"),
            ],
            name="extractor",
        )
        gan = keras_ganinit.GanInitModel(extractor, reconstruction_weight=0.5)
        # Plain SGD: unlike Adam's first step, its update is proportional to the
        # gradient, so a gradient summed over replicas instead of averaged shows.
        gan.compile(
            generator_optimizer=keras.optimizers.SGD(0.5),
            discriminator_optimizer=keras.optimizers.SGD(0.5),
        )
    rng = np.random.default_rng(0)
    for variable in gan.trainable_variables:
        variable.assign(rng.normal(0.0, 0.2, variable.shape).astype("float32"))

    x = (load_digits().data[:64] / 16.0).astype("float32")
    logs = gan.train_on_batch(x, return_dict=True)
    weights = [keras.ops.convert_to_numpy(v) for v in gan.trainable_variables]
    np.savez(
        out,
        *weights,
        paths=np.array([v.path for v in gan.trainable_variables]),
        replicas=replicas,
        d_loss=float(logs["d_loss"]),
        g_loss=float(logs["g_loss"]),
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
