"""The README's demo runs end to end and both classifiers learn."""

import importlib.util
import pathlib

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def test_digits_demo_runs_and_both_classifiers_learn(capsys):
    spec = importlib.util.spec_from_file_location(
        "digits_demo", EXAMPLES / "digits_demo.py"
    )
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    results = demo.main(["--pretrain-epochs", "2", "--epochs", "3"])
    printed = capsys.readouterr().out
    assert set(results) == {"GAN init (default)", "GAN init (paper)", "HeNormal"}
    assert all(name in printed for name in results)
    for accuracies in results.values():
        assert len(accuracies) == 3
        assert accuracies[-1] > 0.3  # ten classes: chance is 0.1
