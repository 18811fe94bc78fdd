"""The benchmark harness: its intervals, its command line, and that every
report in the docs is what the harness builds from the stored results."""

import os

import numpy as np
import pytest
from scipy import stats

from benchmarks import statistics
from benchmarks.__main__ import main, seeds
from benchmarks.studies import STUDIES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("n", [2, 3, 5, 12])
def test_interval_is_the_student_t_interval(n):
    values = np.random.default_rng(n).normal(0.02, 0.03, n)
    expected = stats.t.interval(0.95, n - 1, loc=values.mean(), scale=stats.sem(values))
    got = statistics.paired(values)
    np.testing.assert_allclose([got.low, got.high], expected, rtol=1e-12)
    assert got.sd == pytest.approx(values.std(ddof=1))
    # wider than the mean ± 2 standard errors the benchmarks used to call 95%
    assert got.high - got.mean > 2 * stats.sem(values)


def test_interval_refuses_what_it_cannot_summarize():
    with pytest.raises(ValueError, match="finite"):
        statistics.interval([0.5, float("nan")])
    one = statistics.interval([0.5])
    assert one.n == 1 and np.isnan(one.low) and one.points() == "+50.0"


def test_seeds_take_lists_and_ranges():
    assert seeds("3") == [3]
    assert seeds("100-104") == [100, 101, 102, 103, 104]
    with pytest.raises(Exception, match="range like 0-4"):
        seeds("a-b")


def test_the_command_lists_the_studies_and_refuses_unknown_ones(capsys):
    assert main(["--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in STUDIES)
    assert main(["no_such_study"]) == 2
    assert "the studies are" in capsys.readouterr().out


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_the_docs_report_is_rebuilt_from_the_stored_results(study, tmp_path):
    folder = os.path.join(ROOT, "docs", "benchmarks", study)
    stored = os.path.join(folder, "results.json")
    if not os.path.exists(stored):
        pytest.skip(f"{study} keeps no stored results")
    assert main([study, "--out", str(tmp_path), "--from-results", stored]) == 0
    with open(os.path.join(folder, "report.md")) as handle:
        published = handle.read()
    with open(tmp_path / "report.md") as handle:
        assert handle.read() == published, f"rebuild {study}'s report (see its page)"
