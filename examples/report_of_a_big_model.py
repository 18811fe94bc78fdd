"""An activation report of MobileNetV2 (about 150 reported layers), drawn.

Builds `keras.applications.MobileNetV2(weights=None)` (no download), measures
its activations on 64 random images, prints the unhealthy layers and writes
the plot: one row per layer, top to bottom, so every name stays readable.

    python examples/report_of_a_big_model.py --out report.png
"""

import argparse

import keras
import numpy as np

import keras_ganinit


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="mobilenetv2_report.png")
    args = parser.parse_args(argv)
    model = keras.applications.MobileNetV2(
        weights=None, include_top=False, input_shape=(64, 64, 3), pooling="avg"
    )
    x = np.random.default_rng(0).uniform(-1, 1, (64, 64, 64, 3)).astype("float32")
    report = keras_ganinit.activation_report(model, x)
    problems = report.problems()
    print(f"{len(report.rows)} layers reported, {len(problems)} problems:")
    for kind, row, reason in problems[:10]:
        print(f"  {row['layer']}: {kind}: {reason}")
    figure = report.plot(args.out)
    width, height = figure.get_size_inches() * figure.dpi
    print(f"Wrote {args.out} ({width:.0f} x {height:.0f} pixels).")
    return report


if __name__ == "__main__":
    main()
