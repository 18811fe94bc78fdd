"""The public API: every exported name imports, and nothing else is exported."""

import keras

import keras_ganinit


def test_every_public_name_imports():
    assert sorted(keras_ganinit.__all__) == [
        "ActivationReport",
        "CalibrationReport",
        "GanInitModel",
        "GanPretrainedInitializer",
        "LinearProbeResult",
        "ReportComparison",
        "__version__",
        "activation_report",
        "calibrate",
        "callbacks",
        "compare_reports",
        "detach",
        "initializers",
        "linear_probe",
        "lsuv",
        "mirror",
        "plot_filters",
        "pretrain_layerwise",
        "with_pretrained_initializers",
    ]
    for name in keras_ganinit.__all__:
        assert getattr(keras_ganinit, name) is not None
    assert keras_ganinit.callbacks.__all__ == ["Reconstructions"]
    assert keras_ganinit.initializers.__all__ == ["DeltaOrthogonal", "LooksLinear"]


def test_serializable_classes_are_registered():
    for name, public in (
        ("GanInitModel", keras_ganinit.GanInitModel),
        ("GanPretrainedInitializer", keras_ganinit.GanPretrainedInitializer),
        ("DeltaOrthogonal", keras_ganinit.initializers.DeltaOrthogonal),
        ("LooksLinear", keras_ganinit.initializers.LooksLinear),
    ):
        registered = keras.saving.get_registered_object(f"keras_ganinit>{name}")
        assert registered is public


def test_the_implementation_is_private():
    # Only the public face sits at the top: no implementation module there.
    import pkgutil

    top = {module.name for module in pkgutil.iter_modules(keras_ganinit.__path__)}
    assert top == {"__main__", "_src", "callbacks", "initializers"}
