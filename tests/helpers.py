"""Shared test helpers: extractors, comparisons, layer outputs (fixtures: conftest)."""

import ast

import keras
import numpy as np
import pytest
from keras import layers

# A few steps of a large backbone: TensorFlow's tracing costs more than running
# them eagerly; JAX's eager mode compiles every op, which costs more than one
# jit of the whole step (MobileNetV2 on 2 busy CPUs: 346 s eager, 94 s jit).
EAGER_IS_FASTER = keras.backend.backend() == "tensorflow"

# JAX compiles every new model and shape (seconds each on 2 CPUs), so tests
# whose logic does not depend on the backend, and the larger cases of a
# matrix, run on JAX only with --run-large; TensorFlow and PyTorch run them
# in the default suite.
ON_JAX = keras.backend.backend() == "jax"


def large_on_jax(test):
    """Marks `test` large on JAX only (see ON_JAX)."""
    return pytest.mark.large(test) if ON_JAX else test


def dense_extractor():
    return keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(128, activation="relu", name="fe1"),
            layers.Dense(32, activation="relu", name="fe2"),
        ],
        name="extractor",
    )


def conv_extractor():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Conv2D(16, 3, activation="relu", name="conv2"),
            layers.Flatten(name="flat"),
            layers.Dense(16, activation="relu", name="fe"),
        ],
        name="conv_extractor",
    )


def mlp(depth, activation, kernel, width=64, bias="zeros"):
    return keras.Sequential(
        [keras.Input((64,))]
        + [
            layers.Dense(
                width,
                activation=activation,
                kernel_initializer=kernel,
                bias_initializer=bias,
            )
            for _ in range(depth)
        ]
        + [layers.Dense(10, activation="softmax")]
    )


def same(a, b):
    return np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def leaf_layers(model):
    """`model`'s layers in order, nested models entered, `InputLayer`s skipped."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def layer_outputs(model, x):
    """Each top-level layer's output on `x`: {name: float64 NumPy array}.

    One pass of `keras.Model(model.inputs, [layer.output, ...])` in inference
    mode.
    """
    chosen = [
        layer
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    probe = keras.Model(model.inputs, [layer.output for layer in chosen])
    outputs = probe(keras.ops.convert_to_tensor(x), training=False)
    return {
        layer.name: np.asarray(keras.ops.convert_to_numpy(out), dtype="float64")
        for layer, out in zip(chosen, outputs, strict=True)
    }


def kernel_of(layer):
    """The kernel that sets `layer`'s output scale (a separable convolution's
    pointwise one), or None."""
    for name in ("pointwise_kernel", "kernel"):
        try:
            variable = getattr(layer, name, None)
        except Exception:  # a property that needs what the layer lacks
            variable = None
        if variable is not None and hasattr(variable, "assign"):
            return variable
    return None


def pre_activations(model, x, chosen):
    """What each layer in `chosen` computes before its fused activation on
    `x`, on its first call inside `model` (nested models included), as
    {name: (float64 NumPy array, channel axis)}.

    One inference pass of `model` with each chosen layer's `activation`
    wrapped to record its input; the wrappers are removed afterwards.
    """
    found, saved = {}, []

    def recorder(layer, activation):
        def record(tensor):
            if layer.name not in found:
                found[layer.name] = np.asarray(
                    keras.ops.convert_to_numpy(tensor), dtype="float64"
                )
            return activation(tensor)

        return record

    try:
        for layer in chosen:
            activation = layer.activation
            saved.append((layer, activation))
            layer.activation = recorder(layer, activation)
        model(keras.ops.convert_to_tensor(x), training=False)
    finally:
        for layer, activation in saved:
            layer.activation = activation
    assert set(found) == {layer.name for layer in chosen}, "a layer did not run"
    result = {}
    for layer in chosen:
        value = found[layer.name]
        first = getattr(layer, "data_format", None) == "channels_first"
        result[layer.name] = (value, 1 if first and value.ndim > 2 else value.ndim - 1)
    return result


def source_file_reads():
    """How many times a `.keras` source file has been loaded in this process."""
    # unit test of a private helper: the read-once source cache has no public counter
    from keras_ganinit._src.transfer import source as _source

    return _source.file_reads()


def imported_names(path):
    """Every module name `path` imports, with `from x import y` as x.y too."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            for alias in node.names:
                yield f"{node.module}.{alias.name}"
