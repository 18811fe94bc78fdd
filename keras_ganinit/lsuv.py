"""LSUV: layer-sequential unit-variance rescaling on a data batch."""

import warnings
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from keras_ganinit import _graph, _probe
from keras_ganinit._layers import leaf_layers
from keras_ganinit.activation_report import activation_report
from keras_ganinit.compare_reports import compare_reports


def scale_variable(layer):
    """The kernel whose scale sets `layer`'s output scale, or None.

    A Dense or Conv layer's `kernel`; a separable convolution's
    `pointwise_kernel`; a depthwise convolution's (depthwise) `kernel`.
    """
    for name in ("pointwise_kernel", "kernel"):
        variable = getattr(layer, name, None)
        if variable is not None and hasattr(variable, "assign"):
            return variable
    return None


def kernel_layers(model):
    """`model`'s leaf layers that own a kernel `lsuv` rescales, in order."""
    return [layer for layer in leaf_layers(model) if scale_variable(layer) is not None]


def pre_activation(layer, inputs):
    """`layer`'s output on `inputs` before its fused activation, in float64.

    Returned as (samples and positions, units): the channel axis (the one its
    `data_format` names) last.
    """
    outputs = _probe.pre_activation(layer, inputs)
    data_format = getattr(layer, "data_format", None)
    return _probe.by_channel(outputs, _probe.channel_axis(data_format, outputs.ndim))


def rescale_layer(layer, inputs, target_std, tolerance, max_iterations, center):
    """LSUV on one layer, given the inputs it receives."""
    if not (
        isinstance(target_std, (int, float))
        and not isinstance(target_std, bool)
        and target_std > 0
    ):
        raise ValueError(
            f"target_std must be a number > 0 (or a function of the layer "
            f"returning one), but got {target_std!r} for layer {layer.name!r}."
        )
    kernel = scale_variable(layer)
    bias = getattr(layer, "bias", None) if center else None
    for _ in range(max_iterations):
        outputs = pre_activation(layer, inputs)
        means = outputs.mean(0)
        std = float(np.std(outputs if bias is None else outputs - means))
        if not np.isfinite(std) or std == 0.0:
            raise ValueError(
                f"Layer {layer.name!r} outputs a constant (std {std}) on the "
                f"batch, so lsuv() cannot rescale it. Pass a batch of varied "
                f"real samples."
            )
        centered = bias is None or np.abs(means).max() <= tolerance * target_std
        if abs(std - target_std) <= tolerance and centered:
            return
        kernel.assign(kernel * (target_std / std))
        if bias is not None:
            means = pre_activation(layer, inputs).mean(0)
            bias.assign(bias - means.astype(bias.dtype))
    outputs = pre_activation(layer, inputs)
    means = outputs.mean(0)
    std = float(np.std(outputs if bias is None else outputs - means))
    centered = bias is None or np.abs(means).max() <= tolerance * target_std
    if abs(std - target_std) > tolerance or not centered:
        warnings.warn(
            f"lsuv() did not bring layer {layer.name!r} to output std "
            f"{target_std}{' and zero mean per unit' if bias is not None else ''} "
            f"in {max_iterations} passes: std {std:.3g}, largest unit mean "
            f"{np.abs(means).max():.3g}. Its bias may not be added per output "
            f"unit as its data_format says (Keras's TensorFlow backend adds a "
            f"channels_first bias on the last axis when the channels equal the "
            f"width); check that layer, or pass max_iterations higher.",
            UserWarning,
            stacklevel=2,
        )


def run_rescaling(model, x_batch, target_of, center, refresh, **options):
    """One pass through `model`: each kernel layer rescaled on its real inputs.

    Layers are visited in the graph's order and rescaled just before they
    run, so every layer sees the final outputs of all layers before it. With
    `refresh`, each BatchNormalization's moving statistics are set to its
    inputs' just before it runs.
    """
    done = set()

    def before(layer, args):
        if id(layer) in done:
            return  # a layer called twice is rescaled on its first call
        done.add(id(layer))
        if scale_variable(layer) is not None:
            rescale_layer(layer, args, target_of(layer), center=center, **options)
        elif refresh and isinstance(layer, keras.layers.BatchNormalization):
            _probe.set_batch_statistics(layer, args[0])

    _graph.run(model, x_batch, before)


def lsuv(
    model: keras.Model,
    x_batch: Any,
    target_std: float | Callable[[keras.layers.Layer], float] = 1.0,
    tolerance: float = 0.02,
    max_iterations: int = 10,
    center: bool = False,
    verbose: bool = False,
) -> keras.Model:
    """Rescales each kernel layer so its output has unit variance on a batch.

    Layer-sequential unit-variance initialization (Mishkin & Matas, "All you
    need is a good init", 2016): from the first layer to the last, in the
    order of the model's graph (branches and nested models included), each
    Dense or Conv layer's kernel (a separable convolution's pointwise kernel,
    a depthwise convolution's depthwise kernel) is divided by the standard
    deviation of its output (before its activation) on the inputs it gets
    from `x_batch`, repeated until that standard deviation is within
    `tolerance` of `target_std`. Each layer is rescaled once, in one pass
    through the model, after every layer before it. The kernels' directions
    are kept; only their scale changes. Combined with `Orthogonal` kernels it
    is the LSUV initializer; applied to pretrained kernels it calibrates them.

    With `center=True`, each layer's bias is also shifted so that every output
    unit (channel, for Conv: the axis its `data_format` names) has zero mean
    on `x_batch`, and the standard deviation is taken of those centered
    outputs: the data-dependent initialization of Salimans & Kingma (weight
    normalization, 2016) at the scale of a whole layer. Layers built with
    `use_bias=False` are rescaled but not centered.

    The model is changed in place (its kernels, and its biases with
    `center=True`) and returned.

    Args:
        model: a built `keras.Model` (Sequential or functional) whose Dense and
            Conv layers have a `kernel` and an `activation`.
        x_batch: a batch of real inputs, a few hundred samples.
        target_std: the output standard deviation to reach: a number, or a
            function of the layer that returns one (a target per layer).
        tolerance: how close to `target_std` is close enough.
        max_iterations: rescaling passes per layer at most.
        center: also shift each layer's bias so its outputs have zero mean.
        verbose: print the model's activation statistics on `x_batch` before
            and after, side by side (`keras_ganinit.activation_report`).

    Returns:
        The same model.

    Example:

    >>> import keras, numpy as np, keras_ganinit
    >>> model = keras.Sequential([keras.Input((16,)),
    ...     keras.layers.Dense(8, activation="relu", kernel_initializer="orthogonal")])
    >>> x = np.random.default_rng(0).normal(size=(256, 16)).astype("float32")
    >>> model = keras_ganinit.lsuv(model, x)
    >>> kernel = model.layers[0].kernel.numpy()
    >>> round(float(np.std(x @ kernel + model.layers[0].bias.numpy())), 1)
    1.0
    >>> model = keras_ganinit.lsuv(model, x + 3.0, center=True)
    >>> out = (x + 3.0) @ model.layers[0].kernel.numpy() + model.layers[0].bias.numpy()
    >>> round(float(np.abs(out.mean(0)).max()), 2), round(float(out.std()), 1)
    (0.0, 1.0)
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise TypeError(
            f"lsuv() needs a built keras.Model (one made with keras.Input), but got "
            f"{type(model).__name__}."
        )
    if not kernel_layers(model):
        raise ValueError(
            f"Model {model.name!r} has no layer with a kernel for lsuv() to rescale."
        )
    target_of = target_std if callable(target_std) else (lambda layer: target_std)
    x_batch = keras.ops.convert_to_tensor(np.asarray(x_batch, dtype="float32"))
    before = activation_report(model, x_batch) if verbose else None
    run_rescaling(
        model,
        x_batch,
        target_of,
        center=center,
        refresh=False,
        tolerance=tolerance,
        max_iterations=max_iterations,
    )
    if verbose:
        print_before_after(before, activation_report(model, x_batch), "lsuv()")
    return model


def print_before_after(before, after, what):
    """Prints two activation reports side by side, for `verbose=True`."""
    print(f"Activation statistics before and after {what}:")
    print(compare_reports({"before": before, "after": after}))
