"""How fast is pretraining, against a hand-written loop?

Per backend, in a process of its own: samples per second of
`GanInitModel.fit` as it ships (its closing calibration included) on a Dense
and a Conv2D extractor of the digits, against a hand-written loop of the
same networks, losses and Adam(2e-4, beta_1=0.5) on the same backend:
`tf.function` (XLA exactly when fit uses it), `jax.jit`, or eager PyTorch
with `torch.optim.Adam`. Both take the same batches of 128 in order, 200 per
timing, best of 3 (20 and 1 when quick), after a warm-up.
"""

import multiprocessing
import os
import time

import keras
import numpy as np
from keras import layers, ops

import keras_ganinit
from benchmarks import data, reports
from benchmarks.study import Study

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


def players(gan):
    """The discriminator's and the generator's variables, and a Keras Adam each."""
    ext, dec, disc = gan.extractor, gan.decoder, gan.discriminator
    groups = [
        disc.trainable_variables,
        ext.trainable_variables + dec.trainable_variables,
    ]
    adams = [keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in groups]
    for adam, variables in zip(adams, groups, strict=True):
        adam.build(variables)
    return *groups, *adams


def tensorflow_step(gan, jit_compile):
    import tensorflow as tf

    ext, dec, disc = gan.extractor, gan.decoder, gan.discriminator
    d_vars, g_vars, d_opt, g_opt = players(gan)

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

    return step


def torch_step(gan, jit_compile):
    import torch

    ext, dec, disc = gan.extractor, gan.decoder, gan.discriminator
    d_opt, g_opt = (
        torch.optim.Adam(p, lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
        for p in (list(disc.parameters()), [*ext.parameters(), *dec.parameters()])
    )

    def step(x):
        with torch.no_grad():
            fake = dec(ext(x, training=True), training=True)
        d_opt.zero_grad()
        (d := d_loss(disc(x, training=True), disc(fake, training=True))).backward()
        d_opt.step()
        g_opt.zero_grad()
        fake = dec(ext(x, training=True), training=True)
        (g := g_loss(disc(fake, training=True), fake, x)).backward()
        g_opt.step()
        return d, g

    return step


def jax_step(gan, jit_compile):
    import jax

    ext, dec, disc = gan.extractor, gan.decoder, gan.discriminator
    d_vars, g_vars, d_opt, g_opt = players(gan)
    n = len(ext.trainable_variables)

    def call(model, values, x):
        return model.stateless_call(values, [], x, training=True)[0]

    def d_of(dv, fake, x):  # `fake` is an input: no gradient reaches the generator
        return d_loss(call(disc, dv, x), call(disc, dv, fake))

    def g_of(gv, dv, x):
        fake = call(dec, gv[n:], call(ext, gv[:n], x))
        return g_loss(call(disc, dv, fake), fake, x)

    @jax.jit
    def jitted(state, x):
        gv, dv, gov, dov = state
        fake = call(dec, gv[n:], call(ext, gv[:n], x))
        d, grads = jax.value_and_grad(d_of)(dv, fake, x)
        dv, dov = d_opt.stateless_apply(dov, grads, dv)
        g, grads = jax.value_and_grad(g_of)(gv, dv, x)
        gv, gov = g_opt.stateless_apply(gov, grads, gv)
        return (gv, dv, gov, dov), d, g

    state = [
        [v.value for v in vs]
        for vs in (g_vars, d_vars, g_opt.variables, d_opt.variables)
    ]

    def step(x):
        nonlocal state
        state, d, g = jitted(state, x)
        return d, g

    return step


def measure(steps, repeats):
    """{extractor: samples/s of fit and of the hand-written loop}, and the device."""
    split, batch, rates = data.digits(), 128, {"device": reports.device()}
    digits = np.resize(
        np.concatenate([split.x_train, split.x_test]), (steps * batch, 64)
    )
    for kind, layers_of in EXTRACTORS.items():
        gan, hand = (
            keras_ganinit.GanInitModel(keras.Sequential(layers_of())) for _ in "gh"
        )
        x = digits.reshape(-1, *gan.extractor.inputs[0].shape[1:])
        gan.compile()
        # The same compilation as fit: Keras turns XLA off for TensorFlow on CPU.
        step = globals()[f"{keras.backend.backend()}_step"](hand, gan.jit_compile)

        def loop(x, step=step):  # each batch in order, then wait for the last
            for i in range(0, len(x), batch):
                losses = step(ops.convert_to_tensor(x[i : i + batch]))
            ops.convert_to_numpy(losses[0])

        def fit(x, gan=gan):
            gan.fit(x, batch_size=batch, epochs=1, verbose=0, shuffle=False)

        for name, run in {"fit": fit, "hand-written": loop}.items():
            run(x[: 5 * batch])  # warm-up: traced
            seconds = []
            for _ in range(repeats):
                start = time.perf_counter()
                run(x)
                seconds.append(time.perf_counter() - start)
            rates.setdefault(kind, {})[name] = len(x) / min(seconds)
    return rates


class Throughput(Study):
    name = "throughput"
    title = "Pretraining throughput, fit against a hand-written loop"
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
        rows = [
            [r["cell"], r["device"], kind]
            + [f"{r[kind][k]:.0f}" for k in ("fit", "hand-written")]
            + [f"{r[kind][k] / r[kind]['hand-written']:.2f}" if k in r[kind] else "-"
               for k in ("fit", "train_step")]
            for r in runs if "failed" not in r for kind in EXTRACTORS
        ]  # fmt: skip
        lines = reports.header(self.title, meta, self.question) + reports.failures(runs)
        return "\n".join(lines + [
            f"{meta.get('steps')} batches of 128 per timing, best of "
            f"{meta.get('repeats')}: samples per second, and ratios to the "
            "hand-written loop (target: 0.9 or more).", "",
            reports.markdown_table(
                ["backend", "device", "extractor", "fit samples/s",
                 "hand-written samples/s", "fit / hand-written",
                 "our train_step in that loop / hand-written"], rows,
            ),
        ])  # fmt: skip


STUDY = Throughput()
