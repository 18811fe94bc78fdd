"""LSUV: layer-sequential unit-variance rescaling on a data batch."""

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from keras_ganinit._src.calibration.calibrate import target_function
from keras_ganinit._src.calibration.rescaling import all_or_nothing, run_rescaling
from keras_ganinit._src.diagnostics.activation_report import activation_report
from keras_ganinit._src.diagnostics.compare_reports import print_before_after
from keras_ganinit._src.graph.layers import excluded, kernel_layers
from keras_ganinit._src.utils.checks import (
    check_flag,
    check_verbose,
    positive_int,
    positive_number,
)
from keras_ganinit._src.utils.data import SAMPLES, sample_batch
from keras_ganinit._src.utils.deprecation import renamed_arguments


@renamed_arguments(x_batch="x")
def lsuv(
    model: keras.Model,
    x: Any,
    target_std: "float | Callable[[keras.layers.Layer], float] | None" = 1.0,
    tolerance: float = 0.02,
    max_iterations: int = 10,
    center: bool = False,
    verbose: int | str = 0,
    exclude: Any = (),
    samples: int | None = SAMPLES,
) -> keras.Model:
    """Rescales each kernel layer so its output has unit variance on a batch.

    Layer-sequential unit-variance initialization (Mishkin & Matas, "All you
    need is a good init", 2016): from the first layer to the last, in the
    order of the model's graph (branches and nested models included), each
    Dense or Conv layer's kernel (a separable convolution's pointwise kernel,
    a depthwise convolution's depthwise kernel) is divided by the standard
    deviation of its output (before its activation) on the inputs it gets
    from `x`, repeated until that standard deviation is within
    `tolerance` of `target_std`. Each layer is rescaled once, in one pass
    through the model, after every layer before it. The kernels' directions
    are kept; only their scale changes. Combined with `Orthogonal` kernels it
    is the LSUV initializer; applied to pretrained kernels it calibrates them.

    With `center=True`, each layer's bias is also shifted so that every output
    unit (channel, for Conv: the axis its `data_format` names) has zero mean
    on `x`, and the standard deviation is taken of those centered
    outputs: the data-dependent initialization of Salimans & Kingma (weight
    normalization, 2016) at the scale of a whole layer. Layers built with
    `use_bias=False` are rescaled but not centered.

    The model is changed in place (its kernels, and its biases with
    `center=True`) and returned.

    Args:
        model: a built `keras.Model` (Sequential or functional) whose Dense and
            Conv layers have a `kernel` and an `activation`.
        x: real input samples, in any form `calibrate` takes (an array, a
            batched dataset, a generator of batches); its first `samples`
            are used. (`x_batch=`, its name before 0.3.0, is deprecated.)
        target_std: the output standard deviation to reach: a number (1.0,
            LSUV's unit variance, by default), a function of the layer that
            returns one, or None for `calibrate`'s targets (1, or 0.5 for
            layers whose output goes through tanh).
        tolerance: how close to `target_std` is close enough.
        max_iterations: rescaling passes per layer at most.
        center: also shift each layer's bias so its outputs have zero mean.
        verbose: 0 (silent) or 1: print the model's activation statistics
            on `x` before and after, side by side
            (`keras_ganinit.activation_report`).
        exclude: layers to leave exactly as they are: a layer or its name,
            a list of them, or a function of the layer that returns True.
        samples: how many of the first samples of `x` to measure (None:
            all of an array).

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
    target_of = target_function(target_std, model, "lsuv()")
    tolerance = positive_number(
        tolerance, "tolerance", "how close to target_std is close enough"
    )
    if not 1e-6 <= tolerance < 1:
        raise ValueError(
            f"lsuv()'s tolerance must be at least 1e-6 (float32 measures a std "
            f"no closer) and below 1, but got {tolerance!r}. Pass e.g. 0.02."
        )
    max_iterations = positive_int(
        max_iterations, "max_iterations", "rescaling passes per layer at most"
    )
    center = check_flag(
        center, "center", "Pass True to also centre each layer's outputs."
    )
    verbose = check_verbose(verbose, "lsuv()")
    skip = excluded(exclude, kernel_layers(model), "lsuv()")
    batch = sample_batch(x, samples, "lsuv()", model)
    batch = keras.ops.convert_to_tensor(np.asarray(batch, dtype="float32"))
    before = activation_report(model, batch, samples=None) if verbose else None
    with all_or_nothing(model, "lsuv()"):
        run_rescaling(
            model,
            batch,
            target_of,
            center=center,
            refresh=False,
            skip=skip,
            tolerance=tolerance,
            max_iterations=max_iterations,
        )
    if verbose:
        after = activation_report(model, batch, samples=None)
        print_before_after(before, after, "lsuv()")
    return model
