"""The public API: every exported name imports, and nothing else is exported."""

import keras_ganinit


def test_every_public_name_imports():
    assert sorted(keras_ganinit.__all__) == [
        "ActivationReport",
        "GanInitModel",
        "GanPretrainedInitializer",
        "ReportComparison",
        "__version__",
        "activation_report",
        "callbacks",
        "compare_reports",
        "lsuv",
        "mirror",
        "plot_filters",
        "with_pretrained_initializers",
    ]
    for name in keras_ganinit.__all__:
        assert getattr(keras_ganinit, name) is not None


def test_serializable_classes_are_registered():
    import keras

    for name in ("GanInitModel", "GanPretrainedInitializer"):
        registered = keras.saving.get_registered_object(f"keras_ganinit>{name}")
        assert registered is getattr(keras_ganinit, name)
