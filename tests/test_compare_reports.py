"""compare_reports(): activation reports of one architecture side by side."""

import keras
import pytest
from helpers import mlp
from keras import layers

from keras_ganinit import ReportComparison, activation_report, compare_reports


def test_reports_side_by_side_as_a_table_and_a_plot(standardized, tmp_path):
    keras.utils.set_random_seed(6)
    he = activation_report(mlp(3, "relu", "he_normal"), standardized)
    small = keras.initializers.RandomNormal(0, 0.02)
    tiny = activation_report(mlp(3, "relu", small), standardized)
    both = compare_reports({"He": he, "tiny": tiny})
    assert isinstance(both, ReportComparison)
    text = str(both)
    assert "He std" in text and "tiny dead" in text and "tiny sat" in text
    for row in he.rows:
        assert row["layer"] in text
    assert repr(both) == "<ReportComparison of ['He', 'tiny']: 4 layers>"
    both.plot(tmp_path / "both.png")
    assert (tmp_path / "both.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_reports_refuses_different_architectures(digits):
    x = digits[0][:16]
    two = activation_report(mlp(2, "relu", "he_normal"), x)
    three = activation_report(mlp(3, "relu", "he_normal"), x)
    with pytest.raises(ValueError, match="has 4 layers but report 'a' has 3"):
        compare_reports({"a": two, "b": three})
    other = keras.Sequential(
        [keras.Input((64,)), layers.Dense(4), layers.ReLU(), layers.Dense(2)]
    )
    with pytest.raises(ValueError, match="Layer 1 is a Dense .* but a ReLU"):
        compare_reports({"a": two, "b": activation_report(other, x)})
    with pytest.raises(TypeError, match="dict from a label"):
        compare_reports([two, three])
    with pytest.raises(TypeError, match="not an ActivationReport"):
        compare_reports({"a": two.rows})
    with pytest.raises(ValueError, match="empty dict"):
        compare_reports({})
