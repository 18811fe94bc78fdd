"""calibrate's rules for the layers whose scale is not one plain kernel.

Dense and convolution layers are rescaled by `rescaling.rescale_layer`. The
layers below hold several weights that each set part of their output, so
each gets its own small rule, in a table (`RULES`): recurrent layers and
their wrappers, multi-head attention, embeddings and `TimeDistributed`.
Every rule gets the layer and the real inputs it receives in calibrate's
pass (every layer before it already calibrated), sets its weights in
place, and returns a short description of what it did for the report and
the layer's new output where it has computed it (else None: the pass calls
the layer).
"""

import dataclasses
import math

import keras
import numpy as np

from keras_ganinit._src.calibration.orthogonal import nearest_orthogonal
from keras_ganinit._src.diagnostics.statistics import logit_spread, spread
from keras_ganinit._src.graph import probe as _probe
from keras_ganinit._src.graph.layers import leaf_layers, scale_variable

# How many rows (samples times steps or positions) a rule measures at most:
# enough for a std to within about 1%, few enough to stay fast.
ROWS = 8192

# The spread of the attention logits calibrate gives each attention layer:
# the std, within each query's row, of the logits its softmax sees. At 1 the
# attention is neither uniform (0: every query averages all keys) nor
# one-hot (a few units: each query sees one key, and the softmax's gradient
# vanishes).
LOGIT_STD = 1.0


@dataclasses.dataclass
class Settings:
    """What every rule may read: the target std of a layer, the options."""

    target_of: object
    chrono: bool = False
    seed: int | None = None


def _numpy(value):
    return np.asarray(keras.ops.convert_to_numpy(value), dtype="float64")


def _rows(array):
    """At most `ROWS` rows of a (rows, ...) array, evenly spaced."""
    if len(array) <= ROWS:
        return array
    return array[np.linspace(0, len(array) - 1, ROWS).astype(int)]


def _spread(by_channel, name):
    """The std each unit has over the rows, as calibrate measures it.

    The root mean square over units of each unit's std: a ValueError if it
    is 0 or not finite, which no rescaling can fix.
    """
    value = spread(by_channel)
    if not np.isfinite(value) or value == 0.0:
        raise ValueError(
            f"Layer {name!r} outputs "
            f"{'a constant' if value == 0 else 'non-finite values'} on the "
            f"batch, so it cannot be calibrated. Pass a batch of varied real "
            f"samples (keras_ganinit.activation_report(model, x) shows "
            f"where the signal is lost)."
        )
    return value


def _assign(variable, value):
    variable.assign(
        np.asarray(value).astype(keras.backend.standardize_dtype(variable.dtype))
    )


# -- Embeddings --------------------------------------------------------------


def embedding(layer, args, kwargs, settings):
    """Centred rows, scaled so the looked-up vectors have the target std."""
    table = layer.embeddings
    ids = _numpy(args[0] if args else kwargs["inputs"]).astype("int64").ravel()
    values = _numpy(table)
    ids = ids[(ids >= 0) & (ids < len(values))]
    looked_up = _rows(values[ids])
    mean = looked_up.mean(axis=0)
    target = settings.target_of(layer)
    _assign(table, (values - mean) * (target / _spread(looked_up - mean, layer.name)))
    return f"centred, std {target:g}", None


# -- Recurrent layers ------------------------------------------------------------

# The gates of each recurrent layer, in the order Keras stacks their columns.
LSTM_GATES = ("input", "forget", "cell", "output")
GATES = (
    (
        (
            keras.layers.LSTM,
            keras.layers.ConvLSTM1D,
            keras.layers.ConvLSTM2D,
            keras.layers.ConvLSTM3D,
        ),
        LSTM_GATES,
    ),
    ((keras.layers.GRU,), ("update", "reset", "candidate")),
    ((keras.layers.SimpleRNN,), ("state",)),
)


def _gates(layer):
    for classes, names in GATES:
        if isinstance(layer, classes):
            return names
    return None


def _input_contribution(cell, inputs, block):
    """x W for one gate's block of the input kernel, as (rows, units)."""
    if block.ndim == 2:
        return inputs @ block
    outputs = keras.ops.conv(
        keras.ops.convert_to_tensor(inputs.astype("float32")),
        keras.ops.convert_to_tensor(block.astype("float32")),
        strides=cell.strides,
        padding=cell.padding,
        data_format=cell.data_format,
        dilation_rate=cell.dilation_rate,
    )
    outputs = _numpy(outputs)
    axis = _probe.channel_axis(cell.data_format, outputs.ndim)
    return _probe.by_channel(outputs, axis)


def _gate_offsets(cell, names, steps, settings):
    """The bias each gate starts from, on top of centring its input.

    LSTM: the forget gate at 1 where `unit_forget_bias` (Keras's default,
    Jozefowicz et al. 2015). With `chrono`, the forget gate (LSTM) or the
    update gate (GRU, which keeps the state where it is 1) at log(u), u
    drawn uniformly in [1, steps - 1], and the LSTM's input gate at -log(u):
    memories that last about as long as the sequences in the data (Tallec &
    Ollivier, 2018).
    """
    units = cell.units if hasattr(cell, "units") else cell.filters
    offsets = {name: np.zeros(units) for name in names}
    if "forget" in names and getattr(cell, "unit_forget_bias", False):
        offsets["forget"] += 1.0
    if settings.chrono and names != ("state",):
        seeded = settings.seed is not None
        rng = np.random.default_rng(settings.seed) if seeded else np.random
        memory = np.log(rng.uniform(1.0, max(steps - 1.0, 2.0), size=units))
        if "forget" in names:
            offsets["forget"], offsets["input"] = memory, -memory
        else:
            offsets["update"] = memory
    return offsets


def recurrent(layer, args, kwargs, settings):
    """Orthogonal gate blocks, input parts at the target std, gates centred.

    Each gate's block of the input kernel becomes its nearest orthogonal
    matrix, scaled so that its contribution on the layer's real input
    sequences (every step of every sample) has the target std, and the
    bias centres it, plus the gate's start (`_gate_offsets`). Each block of
    the recurrent kernel becomes its nearest orthogonal matrix, which keeps
    the state's norm from step to step (gain 1).
    """
    if isinstance(layer, keras.layers.Bidirectional):
        forward, _ = recurrent(layer.forward_layer, args, kwargs, settings)
        recurrent(layer.backward_layer, args, kwargs, settings)
        return f"both ways: {forward}", None
    cell = layer.cell
    names = _gates(layer)
    sequences = _numpy(args[0] if args else kwargs["sequences"])
    steps = sequences.shape[1]
    inputs = _rows(sequences.reshape((-1,) + sequences.shape[2:]))
    target = settings.target_of(layer)
    kernel = _numpy(cell.kernel)
    recurrent_kernel = _numpy(cell.recurrent_kernel)
    units = kernel.shape[-1] // len(names)
    offsets = _gate_offsets(cell, names, steps, settings)
    shifts = []
    for j, name in enumerate(names):
        columns = slice(j * units, (j + 1) * units)
        block = nearest_orthogonal(kernel[..., columns]).astype("float64")
        z = _input_contribution(cell, inputs, block)
        scale = target / _spread(z - z.mean(axis=0), layer.name)
        kernel[..., columns] = block * scale
        shifts.append(offsets[name] - z.mean(axis=0) * scale)
        recurrent_kernel[..., columns] = nearest_orthogonal(
            recurrent_kernel[..., columns]
        )
    _assign(cell.kernel, kernel)
    _assign(cell.recurrent_kernel, recurrent_kernel)
    bias = getattr(cell, "bias", None)
    if bias is not None:
        values = _numpy(bias)
        if values.ndim == 2:  # GRU with reset_after: (input, recurrent) rows
            values[0] = np.concatenate(shifts)
        else:
            values = np.concatenate(shifts)
        _assign(bias, values)
    gates = "chrono gates" if settings.chrono and len(names) > 1 else "gates centred"
    return f"orthogonal blocks, input std {target:g}, {gates}", None


# -- Attention ---------------------------------------------------------------


def _orthogonalize(dense):
    kernel = _numpy(dense.kernel)
    flat = kernel.reshape(kernel.shape[0], -1)
    _assign(dense.kernel, nearest_orthogonal(flat).reshape(kernel.shape))


def _rescale(dense, scale, center=None):
    """Kernel (and bias) times `scale`; `center`: unit means to take away."""
    dense.kernel.assign(dense.kernel * scale)
    bias = getattr(dense, "bias", None)
    if bias is None:
        return
    values = _numpy(bias) * scale
    if center is not None:
        values = values - center.reshape(values.shape)
    _assign(bias, values)


def attention(layer, args, kwargs, settings):
    """Query/key scales for a sane logit spread; value/output like Dense.

    The query, key and value projections become their nearest orthogonal
    maps. The values are rescaled to the target std and centred; query and
    key are scaled alike until the attention logits have std `LOGIT_STD`
    within each query's row; then the output projection is rescaled so the
    layer's output has the target std and zero mean per unit.
    """
    projections = (
        layer.query_dense,
        layer.key_dense,
        layer.value_dense,
        layer.output_dense,
    )
    for dense in projections:
        _orthogonalize(dense)
    target = settings.target_of(layer)
    value = kwargs.get("value", args[1] if len(args) > 1 else None)
    if value is not None:
        units = int(np.prod(layer.value_dense.kernel.shape[1:]))
        values = _rows(_numpy(layer.value_dense(value)).reshape(-1, units))
        mean = values.mean(axis=0)
        scale = target / _spread(values - mean, layer.name)
        _rescale(layer.value_dense, scale, mean * scale)
    # The logits are bilinear in the query and key projections (their
    # biases scaled alike): scaling both by s scales every logit by s**2,
    # and their spread with it, so one measurement sets it; a second checks
    # it where masks or a saturated softmax hide some of the logits.
    for _ in range(3):
        _, scores = _probe.attention_call(layer, args, kwargs)
        measured = logit_spread(scores)
        if not np.isfinite(measured) or measured == 0.0:
            break  # one key per query: there is no spread to set
        if abs(measured - LOGIT_STD) <= 0.02 * LOGIT_STD:
            break
        scale = math.sqrt(LOGIT_STD / measured)
        _rescale(layer.query_dense, scale)
        _rescale(layer.key_dense, scale)
        if measured < 20.0:  # no logit lost to the softmax's float32 floor
            break
    output, _ = _probe.attention_call(layer, args, kwargs)
    output = _numpy(output)
    bias = getattr(layer.output_dense, "bias", None)
    old_bias = 0.0 if bias is None else _numpy(bias).ravel()
    linear = output - old_bias  # the output projection's part, before bias
    flat = _rows(_probe.by_channel(linear, -1))
    mean = flat.mean(axis=0)
    scale = target / _spread(flat - mean, layer.name)
    _rescale(layer.output_dense, scale)
    if bias is not None:
        _assign(bias, -mean * scale)
    output = (linear - (0.0 if bias is None else mean)) * scale
    output = keras.ops.convert_to_tensor(output.astype("float32"))
    return f"logit std {LOGIT_STD:g}, output std {target:g}", output


# -- Wrappers ----------------------------------------------------------------


def time_distributed(layer, args, kwargs, settings):
    """The wrapped layer calibrated on every step of the sequences at once."""
    from keras_ganinit._src.calibration.rescaling import rescale_layer

    inner = layer.layer
    sequences = _numpy(args[0] if args else kwargs["inputs"])
    steps = _rows(sequences.reshape((-1,) + sequences.shape[2:]))
    steps = keras.ops.convert_to_tensor(steps.astype("float32"))
    rule = rule_of(inner)
    if rule is not None:
        return rule(inner, (steps,), {}, settings)[0], None
    kernel = scale_variable(inner)
    values = _numpy(kernel)
    _assign(kernel, nearest_orthogonal(values))
    target = settings.target_of(layer)
    rescale_layer(inner, (steps,), target, 0.02, 10, center=True)
    return f"orthogonal, std {target:g} on every step", None


def _recurrent_readable(layer):
    if isinstance(layer, keras.layers.Bidirectional):
        layer = layer.forward_layer
    return _gates(layer) is not None and getattr(layer.cell, "kernel", None) is not None


def _embedding_readable(layer):
    # A quantized or LoRA-adapted table cannot be rescaled in place.
    return hasattr(getattr(layer, "embeddings", None), "assign")


def _time_distributed_readable(layer):
    return scale_variable(layer.layer) is not None or rule_of(layer.layer) is not None


def _always(layer):
    return True


# (layer classes, rule, whether the rule can read the layer), first match
# wins. A layer the rule cannot read is left as it was, and the report says
# why (coverage.py).
RULES = (
    ((keras.layers.RNN, keras.layers.Bidirectional), recurrent, _recurrent_readable),
    ((keras.layers.MultiHeadAttention,), attention, _always),
    ((keras.layers.Embedding,), embedding, _embedding_readable),
    ((keras.layers.TimeDistributed,), time_distributed, _time_distributed_readable),
)


def rule_of(layer):
    """The rule that calibrates `layer`, or None (a kernel layer, or none)."""
    for classes, rule, readable in RULES:
        if isinstance(layer, classes):
            return rule if readable(layer) else None
    return None


def calibrated_layers(model):
    """`model`'s leaf layers that calibrate changes, in order."""
    return [
        layer
        for layer in leaf_layers(model)
        if scale_variable(layer) is not None or rule_of(layer) is not None
    ]
