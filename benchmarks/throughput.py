"""Pretraining throughput: GanInitModel.fit against a hand-written loop, per backend.

For a Dense and a Conv2D extractor on the digits, measures samples per second
of `GanInitModel.fit` and of a hand-written training loop of the same
networks, losses and optimizer settings on the same backend (`tf.function`
with XLA on TensorFlow, `jax.jit` on JAX, a plain eager loop with
`torch.optim.Adam` on PyTorch), side by side in one run, and prints the
ratio fit / hand-written. Each backend runs in its own Python process.
Writes docs/performance.md unless --quick.

    python benchmarks/throughput.py            # ~5 minutes on 2 CPUs
    python benchmarks/throughput.py --quick    # smoke test (CI)
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

from _tables import markdown_table

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BACKENDS = ("tensorflow", "jax", "torch")
KINDS = ("dense", "conv2d")


def networks(kind):
    import keras
    from keras import layers

    import keras_ganinit

    if kind == "dense":
        extractor = keras.Sequential(
            [
                keras.Input((64,)),
                layers.Dense(128, activation="relu"),
                layers.Dense(32, activation="relu"),
            ]
        )
    else:
        extractor = keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                layers.Conv2D(16, 3, padding="same", activation="relu"),
                layers.MaxPooling2D(2),
                layers.Conv2D(32, 3, padding="same", activation="relu"),
                layers.Flatten(),
            ]
        )
    return keras_ganinit.GanInitModel(extractor)


def data(kind, samples):
    import numpy as np
    from sklearn.datasets import load_digits

    x = (load_digits().data / 16.0).astype("float32")
    x = np.concatenate([x] * (samples // len(x) + 1))[:samples]
    return x if kind == "dense" else x.reshape(-1, 8, 8, 1)


def adam():
    import keras

    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def hand_step_tensorflow(gan, jit_compile):
    import tensorflow as tf
    from keras import ops

    ext, dec, disc = gan.extractor, gan.decoder, gan.discriminator
    g_vars = ext.trainable_variables + dec.trainable_variables
    g_opt, d_opt = adam(), adam()
    g_opt.build(g_vars)
    d_opt.build(disc.trainable_variables)

    @tf.function(jit_compile=jit_compile)
    def step(x):
        generated = dec(ext(x, training=True), training=True)
        with tf.GradientTape() as tape:
            d_loss = ops.mean(ops.softplus(-disc(x, training=True))) + ops.mean(
                ops.softplus(disc(generated, training=True))
            )
        d_opt.apply(
            tape.gradient(d_loss, disc.trainable_variables), disc.trainable_variables
        )
        with tf.GradientTape() as tape:
            generated = dec(ext(x, training=True), training=True)
            g_loss = ops.mean(ops.softplus(-disc(generated, training=True)))
            g_loss = g_loss + ops.mean(ops.abs(generated - x))
        g_opt.apply(tape.gradient(g_loss, g_vars), g_vars)
        return d_loss, g_loss

    return step


def hand_step_jax(gan, jit_compile):
    import jax
    from keras import ops

    ext, dec, disc = gan.extractor, gan.decoder, gan.discriminator
    g_opt, d_opt = adam(), adam()
    g_vars = ext.trainable_variables + dec.trainable_variables
    g_opt.build(g_vars)
    d_opt.build(disc.trainable_variables)
    n_ext = len(ext.trainable_variables)

    def generate(gv, x):
        features, _ = ext.stateless_call(gv[:n_ext], [], x, training=True)
        out, _ = dec.stateless_call(gv[n_ext:], [], features, training=True)
        return out

    def logits(dv, x):
        return disc.stateless_call(dv, [], x, training=True)[0]

    def d_loss_fn(dv, gv, x):
        generated = jax.lax.stop_gradient(generate(gv, x))
        return ops.mean(ops.softplus(-logits(dv, x))) + ops.mean(
            ops.softplus(logits(dv, generated))
        )

    def g_loss_fn(gv, dv, x):
        generated = generate(gv, x)
        return ops.mean(ops.softplus(-logits(dv, generated))) + ops.mean(
            ops.abs(generated - x)
        )

    @jax.jit
    def jitted(state, x):
        gv, dv, gov, dov = state
        d_loss, grads = jax.value_and_grad(d_loss_fn)(dv, gv, x)
        dv, dov = d_opt.stateless_apply(dov, grads, dv)
        g_loss, grads = jax.value_and_grad(g_loss_fn)(gv, dv, x)
        gv, gov = g_opt.stateless_apply(gov, grads, gv)
        return (gv, dv, gov, dov), d_loss, g_loss

    state = [
        [v.value for v in g_vars],
        [v.value for v in disc.trainable_variables],
        [v.value for v in g_opt.variables],
        [v.value for v in d_opt.variables],
    ]

    def step(x):
        nonlocal state
        state, d_loss, g_loss = jitted(state, x)
        return d_loss, g_loss

    return step


def hand_step_torch(gan, jit_compile):
    import torch
    from keras import ops

    ext, dec, disc = gan.extractor, gan.decoder, gan.discriminator
    g_params = list(ext.parameters()) + list(dec.parameters())
    g_opt = torch.optim.Adam(g_params, lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
    d_opt = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7)

    def step(x):
        with torch.no_grad():
            generated = dec(ext(x, training=True), training=True)
        d_opt.zero_grad()
        d_loss = ops.mean(ops.softplus(-disc(x, training=True))) + ops.mean(
            ops.softplus(disc(generated, training=True))
        )
        d_loss.backward()
        d_opt.step()
        g_opt.zero_grad()
        generated = dec(ext(x, training=True), training=True)
        g_loss = ops.mean(ops.softplus(-disc(generated, training=True)))
        g_loss = g_loss + ops.mean(ops.abs(generated - x))
        g_loss.backward()
        g_opt.step()
        return d_loss, g_loss

    return step


def measure(kind, steps, batch, repeats):
    """Samples/s of fit and of the hand-written loop, best of `repeats`."""
    import keras

    x = data(kind, steps * batch)
    gan = networks(kind)
    gan.compile()
    gan.fit(x[: 5 * batch], batch_size=batch, epochs=1, verbose=0)  # trace
    fit_rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        gan.fit(x, batch_size=batch, epochs=1, verbose=0, shuffle=False)
        fit_rates.append(len(x) / (time.perf_counter() - start))

    hand = networks(kind)
    # The same compilation as fit: Keras turns XLA off for TensorFlow on CPU.
    step = globals()[f"hand_step_{keras.backend.backend()}"](hand, gan.jit_compile)
    hand_rate = loop_rate(step, x, batch, repeats)
    step_rate = None
    if keras.backend.backend() == "tensorflow":
        # GanInitModel's own train_step, driven by the hand-written loop: what
        # our code costs, apart from Keras's fit machinery (tf.data, callbacks).
        import tensorflow as tf

        def own_step(b):
            logs = gan.train_step(b)
            return logs["d_loss"], logs["g_loss"]

        own = tf.function(own_step, jit_compile=gan.jit_compile)
        step_rate = loop_rate(own, x, batch, repeats)
    return max(fit_rates), hand_rate, step_rate


def loop_rate(step, x, batch, repeats):
    """Samples/s of `step` over `x` in order, best of `repeats`, after a warm-up."""
    import keras

    for i in range(0, 5 * batch, batch):
        step(keras.ops.convert_to_tensor(x[i : i + batch]))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(0, len(x), batch):
            losses = step(keras.ops.convert_to_tensor(x[i : i + batch]))
        keras.ops.convert_to_numpy(losses[0])  # wait for asynchronous backends
        rates.append(len(x) / (time.perf_counter() - start))
    return max(rates)


def worker(args):
    results = {
        kind: measure(kind, args.steps, args.batch, args.repeats) for kind in KINDS
    }
    print("RESULT " + json.dumps(results))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--steps", type=int, default=None, help="batches per timing")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--backends", nargs="*", default=list(BACKENDS))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.steps = args.steps or (20 if args.quick else 200)
    args.repeats = args.repeats or (1 if args.quick else 3)
    if args.worker:
        return worker(args)

    rows = []
    for backend in args.backends:
        command = [
            sys.executable,
            os.path.abspath(__file__),
            "--worker",
            "--steps",
            str(args.steps),
            "--batch",
            str(args.batch),
            "--repeats",
            str(args.repeats),
        ]
        env = {**os.environ, "KERAS_BACKEND": backend}
        completed = subprocess.run(command, env=env, capture_output=True, text=True)
        lines = [ln for ln in completed.stdout.splitlines() if ln.startswith("RESULT ")]
        if completed.returncode != 0 or not lines:
            sys.exit(f"{backend} worker failed:\n{completed.stderr[-4000:]}")
        for kind, (fit, hand, own) in json.loads(lines[-1][7:]).items():
            rows.append((backend, kind, fit, hand, own))
            extra = (
                f"  (our train_step in that loop: {own:.0f} samples/s, ratio "
                f"{own / hand:.2f})"
                if own
                else ""
            )
            print(
                f"{backend:<10} {kind:<6} fit {fit:9.0f} samples/s  hand-written "
                f"{hand:9.0f} samples/s  ratio {fit / hand:.2f}{extra}",
                flush=True,
            )
    if args.quick:
        return rows
    lines = [
        "# Pretraining throughput",
        "",
        f"Produced by `python benchmarks/throughput.py` on {time.strftime('%Y-%m-%d')}"
        f", {platform.platform()}, {os.cpu_count()} CPUs (no GPU); batch "
        f"{args.batch}, {args.steps} batches per timing, best of {args.repeats}.",
        "",
        "Samples per second of GanInitModel.fit and of a hand-written loop of the "
        "same networks, losses and Adam(2e-4, beta_1=0.5) settings on the same "
        "backend: `tf.function` on TensorFlow (with XLA exactly when fit uses "
        "it: Keras turns XLA off for TensorFlow on CPU-only machines), `jax.jit` "
        "on JAX, an eager loop with `torch.optim.Adam` on PyTorch. Both sides "
        "take the same NumPy batches in order. The ratio is fit / hand-written; "
        "the target is at least 0.9.",
        "",
        "On TensorFlow the last columns drive GanInitModel's own `train_step` "
        "from the hand-written loop (in a `tf.function`), which separates the "
        "cost of our step from that of Keras's fit machinery.",
        "",
        markdown_table(
            [
                "backend",
                "extractor",
                "fit samples/s",
                "hand-written samples/s",
                "fit ratio",
                "our train_step in the loop, samples/s",
                "its ratio",
            ],
            [
                [b, k, f"{f:.0f}", f"{h:.0f}", f"{f / h:.2f}"]
                + ([f"{own:.0f}", f"{own / h:.2f}"] if own else ["-", "-"])
                for b, k, f, h, own in rows
            ],
        ),
    ]
    with open(os.path.join(args.out, "performance.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return rows


if __name__ == "__main__":
    main()
