"""How fast is pretraining, against a hand-written loop?

Per backend, in a process of its own: samples per second of `GanInitModel.fit`
as it ships (closing calibration included) on a Dense and a Conv2D extractor
of the digits, batches of 128 in order, 200 per timing (20 when quick), best
of 3 (1) after a warm-up; on TensorFlow, also of a hand-written `tf.function`
loop of the same networks, losses and Adam(2e-4, beta_1=0.5), XLA as in fit.
"""

import functools
import multiprocessing
import os
import timeit

import keras
import numpy as np
from keras import layers, ops

from benchmarks import data, reports
from benchmarks.study import Study
from keras_ganinit import GanInitModel

EXTRACTORS = {
    "dense": lambda: [keras.Input((64,)), layers.Dense(128, "relu"),
                      layers.Dense(32, "relu")],
    "conv2d": lambda: [keras.Input((8, 8, 1)), layers.Conv2D(16, 3, padding="same",
                       activation="relu"), layers.MaxPooling2D(2), layers.Conv2D(
                       32, 3, padding="same", activation="relu"), layers.Flatten()],
}  # fmt: skip


def d_loss(real, fake):
    return ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))


def g_loss(fake, generated, x):  # non-saturating, plus L1 reconstruction
    return ops.mean(ops.softplus(-fake)) + ops.mean(ops.abs(generated - x))


def hand_written(layers_of, jit_compile, batch):
    """The hand-written TensorFlow loop over x, in batches, for the same GAN."""
    import tensorflow as tf

    gan = GanInitModel(keras.Sequential(layers_of()))
    ext, dec, disc = gan.extractor, gan.decoder, gan.discriminator
    d_vars, g_vars = disc.trainable_variables, gan.generator_trainable_variables
    d_opt, g_opt = (keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in "dg")
    d_opt.build(d_vars)
    g_opt.build(g_vars)

    @tf.function(jit_compile=jit_compile)
    def step(x):
        fake = dec(ext(x, training=True), training=True)
        with tf.GradientTape() as tape:
            d = d_loss(disc(x, training=True), disc(fake, training=True))
        d_opt.apply(tape.gradient(d, d_vars), d_vars)
        with tf.GradientTape() as tape:
            fake = dec(ext(x, training=True), training=True)
            g = g_loss(disc(fake, training=True), fake, x)
        g_opt.apply(tape.gradient(g, g_vars), g_vars)
        return d, g

    def loop(x):  # then waits for the last step
        [step(x[i : i + batch]) for i in range(0, len(x), batch)][-1][0].numpy()

    return loop


def measure(steps, repeats):
    """{extractor: samples/s of fit and (TensorFlow) of the hand-written loop}."""
    split, batch, rates = data.digits(), 128, {"device": reports.device()}
    digits = np.concatenate([split.x_train, split.x_test])
    for kind, layers_of in EXTRACTORS.items():
        gan = GanInitModel(keras.Sequential(layers_of()))
        gan.compile()
        x = np.resize(digits, (steps * batch, *gan.extractor.input_shape[1:]))
        runs = {"fit": lambda x, gan=gan: gan.fit(
            x, batch_size=batch, epochs=1, verbose=0, shuffle=False)}  # fmt: skip
        if keras.backend.backend() == "tensorflow":  # the same XLA setting as fit
            runs["hand-written"] = hand_written(layers_of, gan.jit_compile, batch)
        for name, run in runs.items():
            run(x[: 5 * batch])  # warm-up: traced
            times = timeit.repeat(
                functools.partial(run, x), "gc.enable()", number=1, repeat=repeats
            )
            rates.setdefault(kind, {})[name] = len(x) / min(times)
    return rates


class Throughput(Study):
    name = "throughput"
    title = "Pretraining throughput, fit against a hand-written loop"
    question = "How fast is pretraining, against a hand-written loop?"
    page = "throughput.md"
    seeds = (0,)

    def describe(self, args):
        return dict(steps=20 if args.quick else 200, repeats=1 if args.quick else 3)

    def plan(self, args):
        backends = [args.backend] if args.backend else ["tensorflow", "jax", "torch"]
        return [dict(cell=b, seed=s) for b in backends for s in args.seeds]

    def run_one(self, args, cell, seed):
        os.environ["KERAS_BACKEND"], backend = cell, keras.backend.backend()
        try:  # a fresh process, which imports Keras with KERAS_BACKEND = cell
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                return pool.apply(measure, tuple(self.describe(args).values()))
        finally:
            os.environ["KERAS_BACKEND"] = backend

    def report(self, meta, runs, out):
        rows = []
        for r, kind in ((r, k) for r in runs if "failed" not in r for k in EXTRACTORS):
            fit, hand = r[kind]["fit"], r[kind].get("hand-written")
            hand = [f"{hand:.0f}", f"{fit / hand:.2f}"] if hand else ["-", "-"]
            rows.append([r["cell"], r["device"], kind, f"{fit:.0f}", *hand])
        lines = reports.header(self.title, meta, self.question) + reports.failures(runs)
        return "\n".join(lines + [
            f"{meta.get('steps')} batches of 128 per timing, best of "
            f"{meta.get('repeats')}; samples per second (target: fit at 0.9 or "
            "more of the hand-written loop).", "",
            reports.markdown_table(
                ["backend", "device", "extractor", "fit samples/s",
                 "hand-written samples/s", "fit / hand-written"], rows),
        ])  # fmt: skip


STUDY = Throughput()
