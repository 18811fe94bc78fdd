"""Layer names Keras generates, and what a generated name can mean in a source."""

import re


def snake_case(class_name):
    """Keras's automatic layer name for a class: `Conv2D` -> `conv2d`."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def is_generated(name, class_name):
    """Whether `name` is one Keras generates for a layer of `class_name`."""
    return (
        re.fullmatch(rf"{re.escape(snake_case(class_name))}(_\d+)?", name) is not None
    )


def resolve_generated(snapshot, layer):
    """The source's layer for a generated name it does not hold, or None.

    `GanPretrainedInitializer(layer="conv2d_97")` names a layer as one
    process numbered it; the source may number it otherwise. The name is
    taken to mean the source's only layer of that class with a generated
    name; with several, the error lists them.
    """
    candidates = [
        name
        for name, (class_name, values) in snapshot.layers.items()
        if values
        and is_generated(name, class_name)
        and re.sub(r"_\d+$", "", layer) == snake_case(class_name)
    ]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        shown = ", ".join(map(repr, candidates))
        raise ValueError(
            f"There is no layer named {layer!r} in {snapshot.description}: Keras "
            f"generated that name, and numbers layers per process. The source "
            f"has {len(candidates)} layers with such names: {shown}. "
            f"Pass one of them (in the order they run), or an integer index, "
            f"as layer=; or start a whole model with "
            f"keras_ganinit.with_pretrained_initializers, which pairs them by "
            f"their place."
        )
    return None
