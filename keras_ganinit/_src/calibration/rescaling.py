"""The rescaling pass that `lsuv` and `calibrate` share: one layer at a time."""

import contextlib
import warnings

import keras
import numpy as np

from keras_ganinit._src.graph import graph as _graph
from keras_ganinit._src.graph import probe as _probe
from keras_ganinit._src.graph.layers import scale_variable
from keras_ganinit._src.utils import arrays
from keras_ganinit._src.utils.checks import is_number


@contextlib.contextmanager
def all_or_nothing(model, who):
    """Puts every variable of `model` back if the block raises.

    A model with NaN or inf weights is refused first; one left with them at
    the end is put back and refused too. A ValueError says that nothing was
    changed.
    """
    arrays.check_variables_finite(model.variables, f"The model {model.name!r}")
    saved = [
        (variable, np.array(keras.ops.convert_to_numpy(variable)))
        for variable in model.variables
    ]
    try:
        yield
        arrays.check_variables_finite(
            model.variables,
            f"{who} on {model.name!r} gave a model that",
            "The batch's values may be too large for float32: scale the "
            "inputs to about unit range.",
        )
    except BaseException as error:
        for variable, value in saved:
            variable.assign(value)
        if isinstance(error, ValueError):
            raise ValueError(f"{error} No weight of the model was changed.") from error
        raise


def pre_activation(layer, inputs):
    """`layer`'s output on `inputs` before its fused activation, in float64.

    Returned as (samples and positions, units): the channel axis (the one its
    `data_format` names) last.
    """
    outputs = _probe.pre_activation(layer, inputs)
    data_format = getattr(layer, "data_format", None)
    return _probe.by_channel(outputs, _probe.channel_axis(data_format, outputs.ndim))


# The largest output std a layer can be rescaled to: far beyond any useful
# start, and far from float32's overflow in the layers after it.
LARGEST_TARGET = 1e4


def rescale_layer(layer, inputs, target_std, tolerance, max_iterations, center):
    """LSUV on one layer, given the inputs it receives."""
    if not (is_number(target_std) and 0 < target_std <= LARGEST_TARGET):
        raise ValueError(
            f"target_std must be a number > 0 and at most {LARGEST_TARGET:g} (or "
            f"a function of the layer returning one), but got {target_std!r} "
            f"for layer {layer.name!r}."
        )
    kernel = scale_variable(layer)
    bias = getattr(layer, "bias", None) if center else None
    # Absolute up to a target of 1, relative beyond: float32 cannot hold a
    # std of 1e5 to within 0.02.
    close = tolerance * max(1.0, float(target_std))
    for _ in range(max_iterations):
        outputs = pre_activation(layer, inputs)
        means = outputs.mean(0)
        std = float(np.std(outputs if bias is None else outputs - means))
        if not np.isfinite(std):
            raise ValueError(
                f"Layer {layer.name!r} outputs non-finite values (std {std}) on "
                f"the batch, so it cannot be rescaled. "
                f"Check its weights and those of the layers before "
                f"it (keras_ganinit.activation_report(model, x) shows the "
                f"first non-finite layer), and scale the inputs to about unit "
                f"range."
            )
        if std == 0.0:
            raise ValueError(
                f"Layer {layer.name!r} outputs a constant (std 0) on the "
                f"batch, so it cannot be rescaled. Pass a batch of varied real "
                f"samples; if they vary, a layer before it is dead (all-zero "
                f"ReLU outputs): keras_ganinit.activation_report(model, x) "
                f"shows which."
            )
        centered = bias is None or np.abs(means).max() <= tolerance * target_std
        if abs(std - target_std) <= close and centered:
            return
        scale = target_std / std
        kernel.assign(kernel * scale)
        # The output is linear in the kernel: scaling it by `scale` maps
        # each unit's mean m to scale * (m - b) + b, and its std to scale
        # times it, so one update is exact where the bias is added per unit.
        # A channels_first layer is measured again: Keras's TensorFlow
        # backend may add its bias on another axis (see the warning below).
        exact = getattr(layer, "data_format", None) != "channels_first"
        if bias is not None:
            b = np.asarray(keras.ops.convert_to_numpy(bias), dtype="float64")
            if b.shape == means.shape:
                means = scale * (means - b) + b
            else:
                means = pre_activation(layer, inputs).mean(0)
                exact = False
            bias.assign(bias - means.astype(bias.dtype))
        if exact:
            return
    outputs = pre_activation(layer, inputs)
    means = outputs.mean(0)
    std = float(np.std(outputs if bias is None else outputs - means))
    centered = bias is None or np.abs(means).max() <= tolerance * target_std
    if abs(std - target_std) > close or not centered:
        warnings.warn(
            f"Rescaling did not bring layer {layer.name!r} to output std "
            f"{target_std}{' and zero mean per unit' if bias is not None else ''} "
            f"in {max_iterations} passes: std {std:.3g}, largest unit mean "
            f"{np.abs(means).max():.3g}. Its bias may not be added per output "
            f"unit as its data_format says (Keras's TensorFlow backend adds a "
            f"channels_first bias on the last axis when the channels equal the "
            f"width); check that layer, or pass max_iterations higher.",
            UserWarning,
            stacklevel=2,
        )


def run_rescaling(
    model,
    x_batch,
    target_of,
    center,
    refresh,
    skip=(),
    special=None,
    observe=None,
    **options,
):
    """One pass through `model`: each kernel layer rescaled on its real inputs.

    Layers are visited in the graph's order and rescaled just before they
    run, so every layer sees the final outputs of all layers before it. With
    `refresh`, each BatchNormalization's moving statistics are set to its
    inputs' just before it runs. Layers in `skip` are left as they are.
    `special(layer, args, kwargs)`, if given, sees every operation first:
    it returns (True, output or None) for one it has dealt with itself.
    `observe(layer, args, kwargs, output)`, if given, sees every operation
    once it stands as it will (`output`: its output if already computed,
    else None) and may return its output, which the pass then goes on from.
    """
    skipped = {id(layer) for layer in skip}
    done = set()

    def before(layer, args, kwargs):
        if id(layer) in done:
            return  # a layer called twice is rescaled on its first call
        done.add(id(layer))
        output = None
        if id(layer) in skipped:
            pass
        elif special is not None and (found := special(layer, args, kwargs))[0]:
            output = found[1]
        elif scale_variable(layer) is not None:
            rescale_layer(layer, args, target_of(layer), center=center, **options)
        elif refresh and isinstance(layer, keras.layers.BatchNormalization):
            _probe.set_batch_statistics(layer, args[0])
        if observe is not None:
            output = observe(layer, args, kwargs, output)
        return output

    _graph.run(model, x_batch, before)
