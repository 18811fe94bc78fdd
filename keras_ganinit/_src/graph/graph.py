"""Reading and running a Keras model's layer graph, nested models included.

The one place that touches Keras's graph internals (`Functional`'s nodes and
`_run_through_graph`, as `keras.models.clone_model` does): the mirror walks
the graph backwards, calibration runs it forwards one layer at a time.
"""

import keras

from keras_ganinit._src.graph.layers import leaf_layers


def functional_of(model):
    """The `Functional` graph behind `model` (a functional or Sequential model).

    Returns None for a subclassed model, which has no graph to read.
    """
    if isinstance(model, keras.Sequential):
        model = getattr(model, "_functional", None)
    if model is None or not hasattr(model, "_nodes_by_depth"):
        return None
    return model


def is_graph_model(operation):
    """Whether `operation` is a model whose own graph can be walked."""
    return isinstance(operation, keras.Model) and functional_of(operation) is not None


def nodes(model):
    """The calls in `model`'s graph, inputs first: (operation, inputs, outputs).

    `inputs` and `outputs` are the call's flattened `KerasTensor`s.
    """
    graph = functional_of(model)
    found = []
    for depth in sorted(graph._nodes_by_depth, reverse=True):
        for node in graph._nodes_by_depth[depth]:
            if node.operation is None or node.is_input:
                continue
            found.append((node.operation, list(node.input_tensors), list(node.outputs)))
    return found


def keyword_arguments(model):
    """{id(output tensor): (keyword arguments, ids of mask tensors)} of the
    call that gave each output of `model`'s own graph (not nested models').

    The keyword arguments are those that are not tensors
    (`use_causal_mask=True`, ...); the mask tensors are those passed as a
    keyword ending in "mask" (`mask=`, `attention_mask=`, ...).
    """
    graph = functional_of(model)
    found = {}
    for depth_nodes in graph._nodes_by_depth.values():
        for node in depth_nodes:
            arguments = getattr(node, "arguments", None)
            kwargs = getattr(arguments, "kwargs", None) or {}
            plain = {
                k: v for k, v in kwargs.items() if not isinstance(v, keras.KerasTensor)
            }
            masks = {
                id(t)
                for k, v in kwargs.items()
                if k.endswith("mask")
                for t in keras.tree.flatten(v)
                if isinstance(t, keras.KerasTensor)
            }
            for tensor in node.outputs:
                found[id(tensor)] = (plain, masks)
    return found


def _call_in_inference(operation, args, kwargs):
    context = getattr(operation, "_call_context_args", ())
    if "training" in context or getattr(operation, "_call_has_training_arg", False):
        kwargs = {**kwargs, "training": False}
    return operation(*args, **kwargs)


def run(model, x, before=None):
    """Runs `model` on `x` in inference mode, one leaf layer at a time.

    `before(layer, args, kwargs)` is called just before each leaf layer
    (not a nested model) runs, with the arguments it is about to get: the
    layer's
    real inputs, computed with every layer before it as it stands then. So
    a `before` that changes a layer's weights sees that change in all that
    follows, within this one pass. A `before` that has already called the
    layer on `args` (as it stands) may return that output, which the pass
    then uses instead of calling the layer again; None: the pass calls it.
    Nested functional and Sequential models are entered. A subclassed model
    is run as the chain of its leaf layers, if that reproduces its output
    shape.

    Returns:
        The model's output on `x`.
    """
    graph = functional_of(model)
    if graph is None:
        return _run_chain(model, x, before)

    def operation_fn(operation):
        def call(*args, **kwargs):
            if is_graph_model(operation):
                inner = args[0] if len(args) == 1 else list(args)
                return run(operation, inner, before)
            if before is not None:
                output = before(operation, args, kwargs)
                if output is not None:
                    return output
            return _call_in_inference(operation, args, kwargs)

        return call

    return graph._run_through_graph(x, operation_fn=operation_fn)


def _run_chain(model, x, before):
    y = x
    for layer in leaf_layers(model):
        output = None if before is None else before(layer, (y,), {})
        y = _call_in_inference(layer, (y,), {}) if output is None else output
    try:
        expected = tuple(model.outputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError, ValueError):
        expected = None  # a subclassed model without recorded outputs
    if expected is not None and tuple(y.shape[1:]) != expected:
        raise ValueError(
            f"model {model.name!r} is subclassed and its layers do not form a "
            f"single chain, so its layers cannot be run one at a time. Build it "
            f"as a functional or Sequential model."
        )
    return y
