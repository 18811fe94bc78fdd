"""Finding pretrained values: in a saved `.keras` file or in a live model.

A file is read once per process (per version of its content) and never
written, always in Keras's safe mode. A live model is read at call time, so
an initializer bound to a model before training gives the trained values.
"""

import os
import threading
import uuid
import weakref
import zipfile

import keras
import numpy as np

from keras_ganinit._src.graph.layers import DEPTHWISE, extractor_of, leaf_layers
from keras_ganinit._src.transfer.names import resolve_generated
from keras_ganinit._src.utils.saving import LoadError, load_model_safely

MEMORY_PREFIX = "memory://"
# What a layer can hand over: Dense/Conv weights, recurrent kernels,
# embeddings, depthwise and separable convolutions' kernels, then
# normalization layers' scale, offset and (BatchNormalization) moving
# statistics; then the variables of layers that hold several of one kind
# (Bidirectional's two directions, MultiHeadAttention's four projections).
VARIABLES = (
    "kernel",
    "bias",
    "recurrent_kernel",
    "embeddings",
    "depthwise_kernel",
    "pointwise_kernel",
    "gamma",
    "beta",
    "moving_mean",
    "moving_variance",
)
_RECURRENT = ("kernel", "recurrent_kernel", "bias")
# Bidirectional: (prefix, the wrapped layer's attribute).
_DIRECTIONS = (("forward", "forward_layer"), ("backward", "backward_layer"))
# MultiHeadAttention: (prefix, its projection's public attribute).
_PROJECTIONS = (
    ("query", "query_dense"),
    ("key", "key_dense"),
    ("value", "value_dense"),
    ("output", "output_dense"),
)
COMPOSITE_VARIABLES = tuple(
    f"{direction}_{name}" for direction, _ in _DIRECTIONS for name in _RECURRENT
) + tuple(
    f"{projection}_{name}"
    for projection, _ in _PROJECTIONS
    for name in ("kernel", "bias")
)

_lock = threading.RLock()
_snapshots: dict = {}  # (real path, content fingerprint) -> _Snapshot
_being_read: set = set()  # real paths whose load_model is under way in this process
_models: weakref.WeakValueDictionary = (
    weakref.WeakValueDictionary()
)  # memory token -> live model
_tokens: weakref.WeakKeyDictionary = (
    weakref.WeakKeyDictionary()
)  # live model -> memory token
_stats = {"file_reads": 0}


def file_reads():
    """How many times a source file has been loaded in this process."""
    return _stats["file_reads"]


def memory_token(model):
    """A JSON-safe name for a live model, valid for this process's lifetime."""
    with _lock:
        token = _tokens.get(model)
        if token is None:
            token = f"{MEMORY_PREFIX}{model.name}/{uuid.uuid4().hex[:12]}"
            _tokens[model] = token
            _models[token] = model
        return token


def model_for_token(token):
    """The live model behind a memory token, or None once it is gone."""
    return _models.get(token)


def variables_of(layer):
    """The variables in VARIABLES (or COMPOSITE_VARIABLES) `layer` has, by name.

    A recurrent layer's come from its cell; a Bidirectional layer's are its
    directions', prefixed `forward_` and `backward_`; a MultiHeadAttention
    layer's are its projections', prefixed `query_`, `key_`, `value_` and
    `output_`; a TimeDistributed layer's are the wrapped layer's.
    """
    if isinstance(layer, keras.layers.TimeDistributed):
        found = variables_of(layer.layer)
    elif isinstance(layer, keras.layers.RNN):
        found = _plain_variables(layer.cell, _RECURRENT)
    elif isinstance(layer, keras.layers.Bidirectional):
        found = _prefixed(layer, _DIRECTIONS)
    elif isinstance(layer, keras.layers.MultiHeadAttention):
        found = _prefixed(layer, _PROJECTIONS)
    else:
        found = _plain_variables(layer, VARIABLES)
        if isinstance(layer, DEPTHWISE) and "kernel" in found:
            found["depthwise_kernel"] = found["kernel"]
    if not found and not isinstance(layer, keras.Model):
        found = _by_place(layer)  # a custom layer, or a custom recurrent cell
    return found


def _by_place(layer):
    """Any other layer's weights, by their place and name in it ("0/kernel",
    "3/embeddings": the names of sublayers Keras numbers per process would
    not match): handed over by value, never left behind."""
    return {
        f"{index}/{variable.name}": variable
        for index, variable in enumerate(layer.weights)
    }


def _prefixed(layer, parts):
    found = {}
    for prefix, attribute in parts:
        part = getattr(layer, attribute, None)
        if part is not None:
            for name, variable in variables_of(part).items():
                found[f"{prefix}_{name}"] = variable
    return found


def _plain_variables(layer, names):
    found = {}
    for name in names:
        try:
            variable = getattr(layer, name, None)
        except Exception:
            variable = None
        if variable is not None and hasattr(variable, "shape"):
            found[name] = variable
    return found


class _Snapshot:
    """Layer names and their variables' values, in the extractor's order."""

    def __init__(self, description, layers):
        self.description = description
        self.layers = layers  # name -> (class name, {variable: array or variable})

    @classmethod
    def of_model(cls, model, description, copy):
        layers = {}
        for layer in leaf_layers(extractor_of(model)):
            values = variables_of(layer)
            if copy:
                values = {
                    k: np.array(keras.ops.convert_to_numpy(v))
                    for k, v in values.items()
                }
            layers[layer.name] = (type(layer).__name__, values)
        return cls(description, layers)

    def kernel_layers(self):
        return [name for name, (_, values) in self.layers.items() if "kernel" in values]

    def value(self, layer, variable):
        """The array for `variable` of `layer` (a name or a kernel-layer index)."""
        kernel_layers = self.kernel_layers()
        if isinstance(layer, int):
            if not -len(kernel_layers) <= layer < len(kernel_layers):
                raise ValueError(
                    f"layer={layer} is out of range: {self.description} has "
                    f"{len(kernel_layers)} layers with a kernel "
                    f"({', '.join(map(repr, kernel_layers)) or 'none'}). Use an "
                    f"index in [{-len(kernel_layers)}, {len(kernel_layers)}) or "
                    f"a layer name."
                )
            layer = kernel_layers[layer]
        if layer not in self.layers:
            layer = resolve_generated(self, layer) or layer
        if layer not in self.layers:
            raise ValueError(
                f"There is no layer named {layer!r} in {self.description}. "
                f"Layers with a kernel there: "
                f"{', '.join(map(repr, kernel_layers)) or 'none'}. Pass one of "
                f"these names (or an integer index into them) as layer=."
            )
        class_name, values = self.layers[layer]
        if variable not in values:
            raise ValueError(
                f"Layer {layer!r} ({class_name}) in {self.description} has no "
                f"{variable}"
                + (" (was it built with use_bias=False?)" if variable == "bias" else "")
                + f". Layers with a {variable}: "
                + (
                    ", ".join(
                        repr(name)
                        for name, (_, v) in self.layers.items()
                        if variable in v
                    )
                    or "none"
                )
                + "."
            )
        value = np.asarray(keras.ops.convert_to_numpy(values[variable]))
        bad = non_finite(value)
        if bad:
            raise ValueError(
                f"Layer {layer!r} in {self.description} has {bad} non-finite "
                f"values (NaN or inf) in its {variable} of shape "
                f"{tuple(value.shape)}, so it cannot start another model. Its "
                f"pretraining went wrong: pretrain it again (GanInitModel.fit "
                f"stops and says so when its losses become NaN), or use another "
                f"source."
            )
        return layer, value


def snapshot_of_model(model):
    """A live view of `model` (a GanInitModel or any keras.Model)."""
    return _Snapshot.of_model(model, f"the in-memory model {model.name!r}", copy=False)


def snapshot_of_file(path):
    """The values saved in the `.keras` file at `path`, read once per process."""
    real = os.path.realpath(path)
    try:
        stat = os.stat(real)
    except OSError as error:
        raise FileNotFoundError(
            f"The pretrained source {path!r} cannot be found ({error.strerror}: "
            f"{real}). Save the pretrained model there first (gan.save({path!r}))"
            f", or pass the path of an existing .keras file as source=."
        ) from error
    with _lock:
        key = (real, _fingerprint(real, stat))
        if key in _snapshots:
            return _snapshots[key]
        if real in _being_read:
            raise ValueError(
                f"The pretrained source {path!r} is being loaded already: the "
                f"model saved there uses itself as its own source."
            )
        _being_read.add(real)
        try:
            model = load_model_safely(real)
        except LoadError as error:
            raise ValueError(
                f"Cannot read the pretrained source {path!r} as a saved Keras "
                f"model: {error}. "
                + (
                    "keras_ganinit reads sources in safe mode always, whatever "
                    "keras.config.enable_unsafe_deserialization() says, since "
                    "a source only provides weights: save the extractor "
                    "without Lambda layers (or copy its weights into a model "
                    "without them) and pass that file."
                    if error.unsafe
                    else "Pass a .keras file written by model.save() (run "
                    "`import keras_ganinit` first if it holds a GanInitModel)"
                    ", or an in-memory model, as source=."
                )
            ) from error.cause
        finally:
            _being_read.discard(real)
        snapshot = _Snapshot.of_model(model, f"the source file {path!r}", copy=True)
        for old in [k for k in _snapshots if k[0] == real]:
            del _snapshots[old]
        _snapshots[key] = snapshot
        _stats["file_reads"] += 1
        return snapshot


def _fingerprint(real, stat):
    """What identifies the content of the file at `real`, cheaply.

    A `.keras` file is a zip archive whose directory, at its end, records
    each member's CRC-32 and size: reading that directory (not the weights)
    catches a changed file even where size and modification time were kept
    (`cp -p`, `rsync -t`, coarse timestamps). Any other file (a legacy
    `.h5`) is known by its inode and its change time, which no copying tool
    sets back, besides its size and modification time.
    """
    try:
        with zipfile.ZipFile(real) as archive:
            members = tuple(
                (info.filename, info.CRC, info.file_size) for info in archive.infolist()
            )
        return (stat.st_size, members)
    except (zipfile.BadZipFile, OSError):
        return (
            stat.st_size,
            stat.st_mtime_ns,
            stat.st_ctime_ns,
            stat.st_dev,
            stat.st_ino,
        )


def non_finite(value):
    """How many of `value`'s entries are NaN or inf (0 for integer arrays)."""
    value = np.asarray(value)
    if not np.issubdtype(value.dtype, np.inexact):
        return 0
    return int(value.size - np.count_nonzero(np.isfinite(value)))
