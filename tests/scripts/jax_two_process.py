"""A short GanInitModel pretraining, on one process or as one of several (JAX).

    python jax_two_process.py OUT.npz single
    python jax_two_process.py OUT.npz multi PORT PROCESS_ID NUM_PROCESSES [global|local]

Runs under the JAX backend on CPU whatever KERAS_BACKEND says. `single`
trains on one process without a distribution; `multi` is one process of a
`keras.distribution.DataParallel` job whose coordinator (process 0) listens
on 127.0.0.1:PORT, the recipe of docs/distributed.md. The data are the
same global batches of the digits in the same order (no shuffle), as a
`tf.data.Dataset`. Under `multi`, `global` (the default) has every process
feed all the global batches and Keras's DataParallel (auto_shard_dataset=True)
hand each process its part of every batch; `local` has each process feed only
its own part (the PROCESS_ID-th slice of every global batch) to a
DataParallel with auto_shard_dataset=False. The weights start from
`keras.utils.set_random_seed(SEED)`.
Saves the extractor's weights before and after training to OUT.npz
(`initial_<i>`, `final_<i>`), with the process count and the losses.
"""

import os
import sys

SEED = 1
GLOBAL_BATCH = 64
BATCHES = 20  # per epoch; 2 epochs, so 40 steps of each player
EPOCHS = 2


def main(
    out, mode="single", port=None, process_id="0", num_processes="1", feed="global"
):
    os.environ["KERAS_BACKEND"] = "jax"
    os.environ["JAX_PLATFORMS"] = "cpu"
    # One CPU device per process: the devices are the processes.
    os.environ.pop("XLA_FLAGS", None)

    import jax

    if mode == "multi":
        # Collectives between CPU processes need gloo (or mpi). JAX 0.10.2
        # defaults to gloo already; older JAX had none by default.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")

    import keras
    import numpy as np
    import tensorflow as tf
    from keras import layers
    from sklearn.datasets import load_digits

    import keras_ganinit

    # Same seed everywhere: identical initial weights on every process. With
    # a seed set, keras.distribution.initialize keeps it instead of agreeing
    # on a random one.
    keras.utils.set_random_seed(SEED)
    processes = 1
    if mode == "multi":
        keras.distribution.initialize(
            job_addresses=f"127.0.0.1:{port}",
            num_processes=int(num_processes),
            process_id=int(process_id),
        )
        if feed not in ("global", "local"):
            raise ValueError(f"feed must be global or local, not {feed!r}")
        # Before any variable is created.
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(
                devices=keras.distribution.list_devices(),
                auto_shard_dataset=feed == "global",
            )
        )
        processes = jax.process_count()
    elif mode != "single":
        raise ValueError(f"mode must be single or multi, not {mode!r}")

    extractor = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(32, activation="relu", name="fe1"),
            layers.Dense(16, activation="relu", name="fe2"),
        ],
        name="extractor",
    )
    gan = keras_ganinit.GanInitModel(extractor, calibration=False)
    gan.compile(
        generator_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        discriminator_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
    )
    initial = [keras.ops.convert_to_numpy(v) for v in extractor.weights]

    x = (load_digits().data[: GLOBAL_BATCH * BATCHES] / 16.0).astype("float32")
    batch = GLOBAL_BATCH
    if mode == "multi" and feed == "local":
        # This process's slice of every global batch, in batches of that size.
        batch = GLOBAL_BATCH // processes
        x = x.reshape(BATCHES, processes, batch, -1)[:, jax.process_index()]
        x = x.reshape(BATCHES * batch, -1)
    # Under feed=global every process feeds the same global batches and
    # DataParallel hands each its part of every batch.
    data = tf.data.Dataset.from_tensor_slices(x).batch(batch, drop_remainder=True)
    history = gan.fit(data, epochs=EPOCHS, verbose=0)

    final = [keras.ops.convert_to_numpy(v) for v in extractor.weights]
    np.savez(
        out,
        **{f"initial_{i}": w for i, w in enumerate(initial)},
        **{f"final_{i}": w for i, w in enumerate(final)},
        paths=np.array([v.path for v in extractor.weights]),
        processes=processes,
        process_index=jax.process_index(),
        devices=len(jax.devices()),
        d_loss=np.array(history.history["d_loss"]),
        g_loss=np.array(history.history["g_loss"]),
    )
    if mode == "multi":
        jax.distributed.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:])
