"""Does the whole pipeline run on every keras.applications family?

For the smallest variant of each family at the smallest input it accepts
(include_top=False, weights=None): time building a `GanInitModel` (the
automatic mirror and default discriminator), 3 steps of batch 4 of random
images in [0, 255], one step per execution (the first, tracing included,
apart from the mean of the later ones), calibration on 32 of them, and
`with_pretrained_initializers` into a fresh instance; check that every
weight of the copy equals the pretrained one exactly, and the outputs agree
(1e-4). An error or a difference fails the family (exit code 1); the others
still run. Seed 0; each time is one measurement.
"""

import gc
import time

import keras
import numpy as np

from benchmarks import reports
from benchmarks.study import Study
from keras_ganinit import GanInitModel, with_pretrained_initializers

# Each family's smallest variant and the smallest input side it accepts.
FAMILIES = {
    "VGG16": 32, "ResNet50": 32, "ResNet50V2": 32, "MobileNet": 32,
    "MobileNetV2": 32, "MobileNetV3Small": 32, "EfficientNetB0": 32,
    "EfficientNetV2B0": 32, "DenseNet121": 32, "Xception": 71, "InceptionV3": 75,
    "InceptionResNetV2": 75, "NASNetMobile": 32, "ConvNeXtTiny": 32,
}  # fmt: skip
QUICK, STEPS, BATCH, CALIBRATION = ("VGG16", "MobileNetV2"), 3, 4, 32
TIMES = ("mirror build", "first step", "step", "calibration", "transfer")


def backbone(name, side):
    """A fresh, randomly initialized backbone, its automatic names reset."""
    keras.backend.clear_session()  # the two instances get the same automatic names
    gc.collect()
    build = getattr(keras.applications, name)
    return build(include_top=False, weights=None, input_shape=(side, side, 3))


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    return function(*args, **kwargs), time.perf_counter() - start


class Architectures(Study):
    name = "architectures"
    title = "keras.applications backbones through GanInitModel"
    seeds = (0,)

    def add_arguments(self, parser):
        parser.add_argument("--families", nargs="+", choices=list(FAMILIES))

    def describe(self, args):
        return dict(steps=STEPS, batch=BATCH, device=reports.device())

    def plan(self, args):
        chosen = args.families or (QUICK if args.quick else list(FAMILIES))
        return [dict(network=f, seed=s) for f in chosen for s in args.seeds]

    def run_one(self, args, network, seed):
        side = FAMILIES[network]
        keras.utils.set_random_seed(seed)
        shape = (max(STEPS * BATCH, CALIBRATION), side, side, 3)
        x = np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")
        model = backbone(network, side)
        r = {"input": f"{side}x{side}", "params": model.count_params()}
        gan, r["mirror build"] = timed(GanInitModel, model, calibration=False)
        r["mirror params"] = gan.decoder.count_params()
        gan.compile(steps_per_execution=1)  # the timer sees every step
        now, ticks = time.perf_counter, []  # not async-safe: called after the step
        timer = keras.callbacks.LambdaCallback(
            on_train_batch_begin=lambda b, logs: ticks.append(now()),
            on_train_batch_end=lambda b, logs: ticks.append(now() - ticks.pop()),
        )
        gan.fit(x, batch_size=BATCH, epochs=1, steps_per_epoch=STEPS, verbose=0,
                callbacks=[timer])  # fmt: skip
        r["first step"], r["step"] = ticks[0], float(np.mean(ticks[1:]))
        _, r["calibration"] = timed(gan.calibrate, x[:CALIBRATION])
        fresh = backbone(network, side)
        copy, r["transfer"] = timed(with_pretrained_initializers, fresh, gan)
        pairs = zip(copy.get_weights(), gan.extractor.get_weights(), strict=True)
        r["weights differing"] = sum(not np.array_equal(a, b) for a, b in pairs)
        ours, theirs = (m.predict(x[:BATCH], verbose=0) for m in (gan.extractor, copy))
        r["outputs agree"] = bool(np.allclose(ours, theirs, rtol=1e-4, atol=1e-4))
        if r["weights differing"] or not r["outputs agree"]:
            r["failed"] = f"{r['weights differing']} weights differ, outputs by "
            r["failed"] += f"up to {np.abs(ours - theirs).max():.3g}"
        return r

    def report(self, meta, runs, out):
        rows = []
        for r in runs:
            d, agree = r.get("weights differing"), r.get("outputs agree")
            rows.append(
                [r["network"], r.get("input", "-"), r.get("failed", "OK")]
                + [f"{r[k]:,}" if k in r else "-" for k in ("params", "mirror params")]
                + [f"{r[k]:.2f}" if k in r else "-" for k in TIMES]
                + ["-" if d is None else "no" if d else "yes"]
                + ["-" if agree is None else "yes" if agree else "no"]
                + [f"{r['seconds']:.1f}"]
            )  # fmt: skip
        ok = sum("failed" not in r for r in runs)
        return "\n".join(reports.header(self.title, meta, self.question) + [
            f"{meta.get('steps')} steps of batch {meta.get('batch')} on random "
            f"images in [0, 255], calibration on {CALIBRATION} of them; device: "
            f"{meta.get('device', '?')}. Seconds, one measurement each.", "",
            reports.markdown_table(
                ["family", "input", "status", "params", "mirror params",
                 *(f"{t} s" for t in TIMES), "weights exact", "outputs agree",
                 "total s"], rows,
            ), "", f"{ok} of {len(runs)} families OK.",
        ])  # fmt: skip


STUDY = Architectures()
