"""The package's layering: which group of keras_ganinit/_src/ may import which.

Lower groups never import higher ones, and nothing in _src/ imports the
public face (keras_ganinit/__init__.py, keras_ganinit.callbacks,
keras_ganinit.initializers): the public face re-exports the implementation,
never the other way round. Imports inside functions count too.
"""

import pathlib

import pytest
from helpers import imported_names

import keras_ganinit

SRC = pathlib.Path(keras_ganinit.__file__).parent / "_src"

# Each group, and the groups it may import besides itself.
ALLOWED = {
    "utils": set(),
    "graph": {"utils"},
    "initializers": {"utils"},
    "mirror": {"utils", "graph"},
    "diagnostics": {"utils", "graph"},
    "transfer": {"utils", "graph"},
    "calibration": {"utils", "graph", "diagnostics", "initializers"},
    "pretraining": {
        "utils",
        "graph",
        "mirror",
        "diagnostics",
        "calibration",
        "transfer",
        "initializers",
    },
}


def _modules():
    return sorted(SRC.rglob("*.py"))


def test_every_module_belongs_to_a_known_group():
    groups = {path.relative_to(SRC).parts[0] for path in _modules()}
    assert groups - {"__init__.py"} == set(ALLOWED)


@pytest.mark.parametrize(
    "path", _modules(), ids=lambda path: str(path.relative_to(SRC))
)
def test_a_group_imports_only_the_groups_below_it(path):
    parts = path.relative_to(SRC).parts
    if len(parts) == 1:
        return  # _src/__init__.py
    group = parts[0]
    for name in imported_names(path):
        if not name.startswith("keras_ganinit"):
            continue
        pieces = name.split(".")
        assert pieces[:2] == ["keras_ganinit", "_src"], (
            f"{path.relative_to(SRC)} imports {name}: the implementation must "
            f"not import the public face"
        )
        if len(pieces) > 2:
            assert pieces[2] in ALLOWED[group] | {group}, (
                f"{path.relative_to(SRC)} ({group}) imports {name}; {group} may "
                f"import {sorted(ALLOWED[group]) or 'nothing'} only"
            )


def test_the_layering_test_catches_an_upward_import(tmp_path):
    # The check above must be able to fail: an upward import is found.
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from keras_ganinit._src.pretraining import steps\n")
    assert "keras_ganinit._src.pretraining.steps" in set(imported_names(bad))
