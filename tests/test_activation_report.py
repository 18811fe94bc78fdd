"""activation_report(): per-layer statistics on real digits, and its health check."""

import json
import sys

import keras
import numpy as np
import pytest
from helpers import layer_outputs, mlp
from keras import layers

from keras_ganinit import ActivationReport, activation_report
from keras_ganinit._src.diagnostics.statistics import KEYS


def spread(values, axis=-1):
    """RMS over channels of each channel's std over samples and positions."""
    values = np.moveaxis(np.asarray(values, dtype="float64"), axis, -1)
    return np.sqrt(np.var(values.reshape(-1, values.shape[-1]), axis=0).mean())


def test_rows_hold_plain_statistics_that_match_numpy(digits):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(32, activation="relu", name="hidden"),
            layers.Dropout(0.5, name="drop"),
            layers.Dense(16, activation="tanh", name="squash"),
            layers.Dense(10, activation="softmax", name="probs"),
        ]
    )
    x = digits[0][:200]
    report = activation_report(model, x)
    assert isinstance(report, ActivationReport)
    assert [r["layer"] for r in report.rows] == ["hidden", "squash", "probs"]
    assert all(tuple(r) == KEYS for r in report.rows)
    assert json.loads(json.dumps(report.rows)) == report.rows
    assert model.layers[0].activation is keras.activations.relu  # restored

    w1, b1 = model.layers[0].get_weights()
    w2, b2 = model.layers[2].get_weights()
    pre1 = x.astype("float64") @ w1 + b1
    out1 = np.maximum(pre1, 0)
    pre2 = out1 @ w2 + b2
    out2 = np.tanh(pre2)
    hidden, squash, probs = report.rows
    assert hidden["class"] == "Dense" and hidden["activation"] == "relu"
    assert hidden["pre_activation_std"] == pytest.approx(spread(pre1), rel=1e-4)
    assert hidden["output_std"] == pytest.approx(spread(out1), rel=1e-4)
    assert hidden["pre_activation_mean"] == pytest.approx(pre1.mean(), abs=1e-5)
    assert hidden["output_mean"] == pytest.approx(out1.mean(), abs=1e-5)
    assert hidden["dead_fraction"] == np.mean(np.all(out1 == 0, axis=0))
    assert hidden["saturated_fraction"] == 0.0 and hidden["finite"] is True
    assert squash["output_std"] == pytest.approx(spread(out2), rel=1e-4)
    near = (np.abs(out2) >= 0.98).mean()
    assert squash["saturated_fraction"] == pytest.approx(near, abs=2 / out2.size)
    assert squash["dead_fraction"] == 0.0
    assert probs["activation"] == "softmax"
    assert probs["dead_fraction"] == probs["saturated_fraction"] == 0.0


@pytest.mark.parametrize(
    "data_format",
    ["channels_last", pytest.param("channels_first", marks=pytest.mark.channels_first)],
)
def test_dead_fraction_counts_channels_on_the_data_format_axis(
    digit_images, data_format
):
    images = digit_images[:64]
    if data_format == "channels_first":
        images = np.moveaxis(images, -1, 1)
    channels_first = data_format == "channels_first"
    model = keras.Sequential(
        [
            keras.Input(images.shape[1:]),
            layers.Conv2D(4, 3, activation="relu", data_format=data_format),
            layers.Conv2D(4, 1, data_format=data_format, name="linear"),
            layers.BatchNormalization(axis=1 if channels_first else -1),
            layers.Activation("relu", name="act"),
            layers.ReLU(name="relu_layer"),
            layers.MaxPooling2D(2, data_format=data_format),
            layers.Flatten(data_format=data_format),
        ]
    )
    # Channels 0 and 1 of both convolutions never fire; 2 and 3 always do.
    conv, linear = model.layers[0], model.layers[1]
    bias = np.array([-100.0, -100.0, 1.0, 1.0], "float32")
    conv.set_weights([np.full(conv.kernel.shape, 0.1, "float32"), bias])
    linear.set_weights([np.eye(4, dtype="float32")[None, None], bias])
    report = activation_report(model, images)
    names = [r["layer"] for r in report.rows]
    assert names == [conv.name, "linear", model.layers[2].name, "act", "relu_layer"]
    # The output is 6x6 spatially: on the wrong axis, no column is all zero.
    dead = {r["layer"]: r["dead_fraction"] for r in report.rows}
    assert dead == {
        conv.name: 0.5,
        "linear": 0.0,
        model.layers[2].name: 0.0,
        "act": 0.5,
        "relu_layer": 0.5,
    }
    relu = {r["layer"]: r for r in report.rows}["relu_layer"]
    assert relu["activation"] == "relu"
    assert relu["pre_activation_std"] == pytest.approx(relu["output_std"])


@pytest.mark.channels_first
def test_layers_without_data_format_take_it_from_upstream(digit_images):
    keras.utils.set_random_seed(8)
    images = np.moveaxis(digit_images[:16], -1, 1)
    model = keras.Sequential(
        [
            keras.Input(images.shape[1:]),
            layers.Conv2D(3, 3, data_format="channels_first", name="conv"),
            layers.Activation("relu", name="act"),
            # Acts on the last axis whatever came before.
            layers.Dense(5, activation="relu", name="dense"),
            layers.LeakyReLU(name="leaky"),
        ]
    )
    # Channel 0 of the conv (axis 1) and units 0-1 of the Dense (axis 3)
    # never fire; counted on any other axis, nothing is dead.
    conv, dense = model.get_layer("conv"), model.get_layer("dense")
    conv.set_weights([conv.get_weights()[0], np.array([-100.0, 0.0, 0.0], "float32")])
    bias = np.array([-100.0, -100.0, 0.0, 0.0, 0.0], "float32")
    dense.set_weights([dense.get_weights()[0], bias])
    outputs = layer_outputs(model, images)
    assert outputs["leaky"].shape == (16, 3, 6, 5)
    report = activation_report(model, images)
    rows = {r["layer"]: r for r in report.rows}
    assert list(rows) == ["conv", "act", "dense", "leaky"]
    assert rows["act"]["dead_fraction"] == pytest.approx(1 / 3)
    assert rows["dense"]["dead_fraction"] == pytest.approx(2 / 5)
    # Each layer's statistics are taken per channel on its channel axis: 1
    # after the channels_first conv, 3 from the Dense on.
    conv_out = outputs["conv"]
    pres = {"conv": conv_out, "act": conv_out, "leaky": outputs["dense"]}
    for name, axis in (("conv", 1), ("act", 1), ("dense", 3), ("leaky", 3)):
        out = outputs[name]
        wrong = spread(out, 3 if axis == 1 else 1)
        assert abs(wrong - spread(out, axis)) > 0.01 * spread(out, axis), name
        assert rows[name]["output_std"] == pytest.approx(spread(out, axis), rel=1e-4)
        assert rows[name]["output_mean"] == pytest.approx(out.mean(), abs=1e-5)
        if name in pres:  # an activation layer's pre-activation is its input
            pre = pres[name]
            assert rows[name]["pre_activation_std"] == pytest.approx(
                spread(pre, axis), rel=1e-4
            )
            assert rows[name]["pre_activation_mean"] == pytest.approx(
                pre.mean(), abs=1e-5
            )
    np.testing.assert_allclose(outputs["act"], np.maximum(conv_out, 0), atol=1e-6)
    assert all(isinstance(r[k], float) for r in report.rows for k in KEYS[3:8])


def test_saturated_fraction_is_the_share_within_margin_of_the_limits(digits):
    keras.utils.set_random_seed(1)
    big = keras.initializers.RandomNormal(0.0, 1.0)
    model = keras.Sequential(
        [keras.Input((64,)), layers.Dense(32, "sigmoid", kernel_initializer=big)]
    )
    x = digits[0][:128]
    kernel, bias = model.layers[0].get_weights()
    y = 1 / (1 + np.exp(-(x.astype("float64") @ kernel + bias)))
    for margin in (0.02, 0.2):
        row = activation_report(model, x, margin=margin).rows[0]
        expected = np.mean((y <= margin) | (y >= 1 - margin))
        assert row["saturated_fraction"] == pytest.approx(expected, abs=2 / y.size)
    assert 0.0 < activation_report(model, x).rows[0]["saturated_fraction"] < 0.9


def test_branches_merges_depthwise_and_nested_models(digit_images):
    keras.utils.set_random_seed(2)
    inputs = keras.Input((8, 8, 1))
    stem = layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inputs)
    depthwise = layers.DepthwiseConv2D(3, padding="same", name="depthwise")(stem)
    squeeze = layers.GlobalAveragePooling2D(keepdims=True)(depthwise)
    squeeze = layers.Dense(2, activation="relu", name="se_reduce")(squeeze)
    squeeze = layers.Dense(8, activation="sigmoid", name="se_expand")(squeeze)
    excited = layers.Multiply()([depthwise, squeeze])
    added = layers.Add()([stem, excited])
    block = keras.Sequential(
        [
            keras.Input((8, 8, 8)),
            layers.BatchNormalization(name="inner_bn"),
            layers.ReLU(name="inner_relu"),
        ],
        name="block",
    )
    side = layers.Conv2D(4, 1, activation="tanh", name="side")(added)
    merged = layers.Concatenate()([block(added), side])
    shared = layers.Dense(6, name="shared")
    out = layers.Add()([shared(merged), shared(merged)])
    model = keras.Model(inputs, layers.Flatten()(out))

    report = activation_report(model, digit_images[:64])
    names = [r["layer"] for r in report.rows if r["class"] != "Add"]
    # Each Add gets a row too: the std of what it adds up.
    assert [r["class"] for r in report.rows].count("Add") == 2
    assert sorted(names) == sorted(
        ["stem", "depthwise", "se_reduce", "se_expand", "inner_bn", "inner_relu"]
        + ["side", "shared"]
    )
    assert names.index("stem") < names.index("depthwise") < names.index("se_expand")
    assert names.index("inner_bn") < names.index("inner_relu")
    assert all(r["finite"] for r in report.rows)
    probe = keras.Model(inputs, depthwise)
    expected = spread(keras.ops.convert_to_numpy(probe(digit_images[:64])))
    row = report.rows[names.index("depthwise")]
    assert row["output_std"] == pytest.approx(expected, rel=1e-4)
    # A 2-unit squeeze-excite on pooled digits is often dead at init (the
    # pooled features barely vary); the rest of the model is healthy.
    assert report.check(exclude=lambda row: row["layer"].startswith("se_"))


def test_a_he_initialized_relu_mlp_is_healthy(standardized):
    keras.utils.set_random_seed(3)
    report = activation_report(mlp(6, "relu", "he_normal"), standardized)
    assert report.check() is report
    assert report.problems() == []


@pytest.mark.parametrize(
    ("activation", "kernel", "bias", "kind"),
    [
        ("tanh", keras.initializers.RandomNormal(0, 0.02), "zeros", "vanishing"),
        ("sigmoid", keras.initializers.RandomNormal(0, 0.02), "zeros", "vanishing"),
        ("relu", keras.initializers.RandomNormal(0, 10), "zeros", "exploding"),
        ("tanh", keras.initializers.RandomNormal(0, 10), "zeros", "saturated"),
        ("relu", "he_normal", keras.initializers.Constant(-100.0), "dead"),
    ],
)
def test_check_names_what_is_wrong_and_what_to_do(
    standardized, activation, kernel, bias, kind
):
    keras.utils.set_random_seed(4)
    depth = 12 if kind == "vanishing" else 4
    model = mlp(depth, activation, kernel, bias=bias)
    report = activation_report(model, standardized)
    with pytest.raises(ValueError, match=kind) as error:
        report.check()
    message = str(error.value)
    assert model.layers[-2].name in message
    assert "What to do" in message
    assert {"vanishing": "min_std=0.01", "exploding": "max_std=100"}.get(
        kind, f"max_{kind}=0.5"
    ) in message


def test_batch_normalization_sees_batch_statistics_and_is_left_as_it_was(
    digit_images,
):
    keras.utils.set_random_seed(7)
    huge = keras.initializers.RandomNormal(0, 1000)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(8, 3, kernel_initializer=huge, name="conv"),
            layers.BatchNormalization(name="bn"),
            layers.ReLU(name="relu"),
        ]
    )
    moving = [np.array(w) for w in model.get_weights()]
    report = activation_report(model, digit_images[:64])
    assert report.normalized == ("conv",)
    bn = report.rows[1]
    assert bn["output_std"] == pytest.approx(1.0, abs=0.01)  # as in training
    assert report.check() is report  # the conv's scale is undone by "bn"
    for old, new in zip(moving, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    np.testing.assert_array_equal(model.layers[1].moving_variance, np.ones(8))
    inference = activation_report(model, digit_images[:64], batch_statistics=False)
    with pytest.raises(ValueError, match="'bn' .*exploding"):
        inference.check()


def test_non_finite_weights_fail_the_check(standardized):
    model = mlp(3, "relu", "he_normal")
    kernel, bias = model.layers[1].get_weights()
    kernel[0, 0] = np.nan
    model.layers[1].set_weights([kernel, bias])
    report = activation_report(model, standardized)
    assert [r["finite"] for r in report.rows] == [True, False, False, False]
    with pytest.raises(ValueError, match="non-finite") as error:
        report.check()
    assert f"'{model.layers[0].name}'" not in str(error.value)
    assert "np.isfinite" in str(error.value)


def test_ignore_skips_layers_meant_to_be_that_way(standardized):
    keras.utils.set_random_seed(5)
    model = mlp(2, "relu", "he_normal")
    last = model.layers[-1]
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    report = activation_report(model, standardized)
    with pytest.raises(ValueError, match="vanishing"):
        report.check()
    assert report.check(exclude=[last.name]) is report
    assert report.check(exclude=last.name) is report
    assert report.check(exclude=lambda row: row["layer"] == last.name) is report
    assert report.check(min_std=0.0) is report
    with pytest.raises(ValueError, match="not layers of this report"):
        report.check(exclude=["no_such_layer"])
    with pytest.raises(ValueError, match="max_dead must be a fraction"):
        report.check(max_dead=2)
    with pytest.raises(ValueError, match="min_std < max_std"):
        report.check(min_std=10, max_std=1)


def test_str_is_a_table_and_repr_is_short(digits):
    model = mlp(2, "relu", "he_normal")
    report = activation_report(model, digits[0][:32])
    text = str(report)
    lines = text.splitlines()
    assert "32 samples" in lines[0] and lines[1].split()[:3] == [
        "layer",
        "class",
        "activation",
    ]
    assert len(lines) == 3 + len(report.rows)
    for layer in model.layers:
        assert layer.name in text
    assert repr(report) == (
        f"<ActivationReport of {model.name!r} on 32 samples: 3 layers>"
    )


def test_plot_writes_a_png(standardized, tmp_path):
    keras.utils.set_random_seed(6)
    he = activation_report(mlp(3, "relu", "he_normal"), standardized)
    figure = he.plot(tmp_path / "he.png")
    assert type(figure).__name__ == "Figure"
    assert (tmp_path / "he.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _label_boxes(figure):
    """The window extents of the layer names on the first panel, in pixels."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    labels = figure.axes[0].get_yticklabels()
    return labels, [label.get_window_extent(renderer) for label in labels]


def test_the_plot_of_a_150_layer_model_reads_at_full_size(tmp_path):
    # Layers run down the page, one row each: the names never overlap and
    # the figure grows in height, not in width (issue: MobileNetV2's plot
    # was 5760 pixels wide with every name on top of the next).
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,))]
        + [
            layers.Dense(8, activation="relu", name=f"block_{i}_dense")
            for i in range(150)
        ]
    )
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    report = activation_report(model, x)
    figure = report.plot(tmp_path / "deep.png")
    width, height = figure.get_size_inches() * figure.dpi
    assert width <= 1400 and height >= 150 * 15
    labels, boxes = _label_boxes(figure)
    assert [label.get_text() for label in labels] == [r["layer"] for r in report.rows]
    for upper, lower in zip(boxes, boxes[1:], strict=False):
        assert not upper.overlaps(lower)
    # Each name is drawn at 8 points or more: readable at 100% zoom.
    assert min(label.get_fontsize() for label in labels) >= 8
    # The unhealthy layers are marked in red.
    dead = {kind_row[1]["layer"] for kind_row in report.problems()}
    assert dead  # a 150-layer Glorot ReLU stack fades: there is something to mark
    red = {label.get_text() for label in labels if label.get_color() == "tab:red"}
    assert red == dead


def test_plot_without_matplotlib_says_how_to_install_it(digits, monkeypatch):
    report = activation_report(mlp(1, "relu", "he_normal"), digits[0][:8])
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        report.plot()


def test_bad_inputs_are_explained(digits):
    x = digits[0][:32]
    model = mlp(1, "relu", "he_normal")
    with pytest.raises(TypeError, match="built keras.Model"):
        activation_report("model", x)
    with pytest.raises(TypeError, match="built keras.Model"):
        activation_report(keras.Sequential([layers.Dense(3)]), x)
    with pytest.raises(ValueError, match="1 sample .* at least 2"):
        activation_report(model, x[:1])
    with pytest.raises(
        ValueError, match=r"shape \(32, 8, 8\).*expects \(samples, 64\)"
    ):
        activation_report(model, x.reshape(-1, 8, 8))
    broken = x.copy()
    broken[3, 5] = np.nan
    with pytest.raises(ValueError, match="x holds 1 non-finite.*Drop or impute"):
        activation_report(model, broken)
    with pytest.raises(ValueError, match="margin must be"):
        activation_report(model, x, margin=0.7)
