"""keras.applications backbones end to end: mirror, pretraining, calibration, transfer.

For the smallest variant of every keras.applications family, at the smallest
input it accepts (include_top=False, weights=None), builds a GanInitModel
with the automatic mirror, pretrains it a few steps on random images in
[0, 255], calibrates it, then starts a fresh instance of the same family from
it with `with_pretrained_initializers` and checks that every weight of the
copy equals the pretrained extractor's (by layer name, exactly) and that the
two give the same outputs. One row per family, timings in seconds: mirror
build (the GanInitModel constructor: mirror and default discriminator), the
first train step (tracing included), the mean of the later ones,
calibration and the transfer. A failing family is reported and the others
still run; the exit code is 1 if any failed. keras.backend.clear_session()
runs before each construction, so that the two instances of a family get the
same automatic layer names (InceptionV3 and InceptionResNetV2 name most of
their layers automatically).

    python benchmarks/architectures.py --quick     # VGG16, MobileNetV2: CI, 1-3 min
    python benchmarks/architectures.py --steps 2 --batch-size 4 \\
        --calibration-samples 32 --out /tmp/arch.md    # all 14 families
    KERAS_BACKEND=jax python benchmarks/architectures.py --families ResNet50 Xception
"""

import argparse
import gc
import os
import platform
import shlex
import sys
import time

import keras
import numpy as np
from _tables import markdown_table

import keras_ganinit
from keras_ganinit._src.graph.layers import leaf_layers

# Each family's smallest keras.applications variant and the smallest input
# side it accepts with include_top=False.
FAMILIES = {
    "VGG16": 32, "ResNet50": 32, "ResNet50V2": 32, "MobileNet": 32,
    "MobileNetV2": 32, "MobileNetV3Small": 32, "EfficientNetB0": 32,
    "EfficientNetV2B0": 32, "DenseNet121": 32, "Xception": 71, "InceptionV3": 75,
    "InceptionResNetV2": 75, "NASNetMobile": 32, "ConvNeXtTiny": 32,
}  # fmt: skip
QUICK = ("VGG16", "MobileNetV2")
COLUMNS = (
    "family, input, status, params, mirror params, mirror build s, first step s, "
    "step s, calibration s, transfer s, weights exact, outputs agree, total s"
).split(", ")


def backbone(name, side):
    """A fresh, randomly initialized backbone with reset automatic layer names."""
    keras.backend.clear_session()
    build = getattr(keras.applications, name)
    return build(include_top=False, weights=None, input_shape=(side, side, 3))


class StepTimer(keras.callbacks.Callback):
    """Seconds of each train step, from batch begin to batch end.

    Not async-safe, so Keras converts the logs to Python numbers before
    on_train_batch_end: the step has finished on every backend.
    """

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def compare_weights(copy, extractor):
    """(differing, total, names): the copy's weights against the extractor's."""
    source = {layer.name: layer for layer in leaf_layers(extractor)}
    differing, total, names = 0, 0, []
    for layer in leaf_layers(copy):
        if not layer.weights:
            continue
        counterpart = source.get(layer.name)
        theirs = counterpart.weights if counterpart is not None else []
        for i, weight in enumerate(layer.weights):
            total += 1
            same = i < len(theirs) and np.array_equal(
                keras.ops.convert_to_numpy(weight),
                keras.ops.convert_to_numpy(theirs[i]),
            )
            if not same:
                differing += 1
                names.append(weight.path)
    return differing, total, names


def run_family(name, side, args):
    row = {"family": name, "input": f"{side}x{side}"}
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    n = max(args.steps * args.batch_size, args.calibration_samples)
    x = rng.uniform(0.0, 255.0, (n, side, side, 3)).astype("float32")
    try:
        model = backbone(name, side)
        row["params"] = f"{model.count_params():,}"
        start = time.perf_counter()
        gan = keras_ganinit.GanInitModel(model, calibration=False)
        row["mirror build s"] = time.perf_counter() - start
        row["mirror params"] = f"{gan.decoder.count_params():,}"
        gan.compile(steps_per_execution=1)  # the timer sees every step
        timer = StepTimer()
        gan.fit(
            x,
            epochs=1,
            batch_size=args.batch_size,
            steps_per_epoch=args.steps,
            verbose=0,
            callbacks=[timer],
        )
        row["first step s"] = timer.seconds[0]
        row["step s"] = float(np.mean(timer.seconds[1:]))
        start = time.perf_counter()
        gan.calibrate(x[: args.calibration_samples])
        row["calibration s"] = time.perf_counter() - start

        fresh = backbone(name, side)
        start = time.perf_counter()
        copy = keras_ganinit.with_pretrained_initializers(fresh, gan)
        row["transfer s"] = time.perf_counter() - start
        differing, total, names = compare_weights(copy, gan.extractor)
        row["weights exact"] = "yes" if not differing else f"no ({differing}/{total})"
        batch = x[: args.batch_size]
        ours = keras.ops.convert_to_numpy(gan.extractor(batch, training=False))
        theirs = keras.ops.convert_to_numpy(copy(batch, training=False))
        agree = np.allclose(ours, theirs, rtol=1e-4, atol=1e-4)
        row["outputs agree"] = "yes" if agree else "no"
        problems = []
        if differing:
            problems.append(f"{differing} of {total} weights differ: {names[:3]}")
        if not agree:
            problems.append(
                f"outputs differ by up to {np.abs(ours - theirs).max():.3g}"
            )
        row["status"] = "FAIL: " + "; ".join(problems) if problems else "OK"
    except Exception as error:  # one family's failure must not stop the rest
        message = f"{type(error).__name__}: {str(error)[:200]}"
        row["status"] = " ".join(message.split())
    finally:
        gan = model = fresh = copy = None
        keras.backend.clear_session()
        gc.collect()
    return row


def device_name():
    """The accelerator's name if the backend sees one, else the CPU's."""
    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                return details.get("device_name", gpus[0].name)
        elif backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform != "cpu":
                return device.device_kind
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                return torch.cuda.get_device_name(0)
    except Exception:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            models = [ln for ln in handle if ln.startswith("model name")]
        cpu = models[0].split(":", 1)[1].strip() if models else cpu
    except OSError:
        pass
    return f"CPU: {cpu}, {os.cpu_count()} cores (no GPU)"


def cell(value):
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = list(FAMILIES)
    parser.add_argument("--families", nargs="+", choices=names, default=None)
    parser.add_argument("--quick", action="store_true", help="VGG16, MobileNetV2")
    parser.add_argument("--steps", type=int, default=None, help="train steps (>= 2)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--calibration-samples", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the markdown report here")
    args = parser.parse_args(argv)
    args.families = args.families or list(QUICK if args.quick else names)
    args.steps = args.steps or (2 if args.quick else 5)
    args.batch_size = args.batch_size or (4 if args.quick else 8)
    if args.steps < 2:
        parser.error("--steps must be at least 2: the first step is timed apart.")

    given = sys.argv[1:] if argv is None else argv
    command = f"KERAS_BACKEND={keras.backend.backend()} " + shlex.join(
        ["python", "benchmarks/architectures.py", *given]
    )
    header = [
        "# keras.applications backbones through GanInitModel",
        "",
        f"- command: `{command}`",
        f"- keras {keras.__version__}, backend {keras.backend.backend()}, "
        f"keras_ganinit {keras_ganinit.__version__}",
        f"- {platform.platform()}, Python {platform.python_version()}; "
        f"device: {device_name()}",
        f"- {time.strftime('%Y-%m-%d %H:%M')}; {args.steps} steps of batch "
        f"{args.batch_size}, calibration on {args.calibration_samples} samples, "
        f"random images in [0, 255], seed {args.seed}",
        "",
    ]
    print("\n".join(header), flush=True)
    rows = []
    for name, side in FAMILIES.items():
        if name not in args.families:
            continue
        start = time.perf_counter()
        rows.append(run_family(name, side, args))
        rows[-1]["total s"] = time.perf_counter() - start
        print(
            f"{name}: {rows[-1]['status']} ({rows[-1]['total s']:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    ok = sum(row["status"] == "OK" for row in rows)
    table = [
        markdown_table(COLUMNS, [[cell(row.get(c)) for c in COLUMNS] for row in rows]),
        "",
        f"{ok} of {len(rows)} families OK.",
    ]
    print("\n".join(table))
    if args.out:
        with open(args.out, "w") as handle:
            handle.write("\n".join(header + table) + "\n")
    return 0 if ok == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
