"""The base class of every study, and the loop that runs one.

A study is a short module in `benchmarks/studies/` with one `Study`
subclass instance named `STUDY`. It says its question, the runs it plans
(`plan`: one dict of keys per run, seed included), how one run goes
(`run_one`: a dict of results) and how its report reads (`report`: Markdown,
figures saved beside it). `execute` runs the plan, records each run as it
ends (a failed run is recorded with its error and the rest go on), writes
results.json and report.md after every run, and prints one line per run.
"""

import os
import time

from benchmarks import reports
from benchmarks.studies import STUDIES


class Study:
    """What a study says and does; subclasses set the fields and methods."""

    name = ""
    title = ""
    seeds = (0, 1, 2, 3, 4)
    quick_seeds = (0,)

    @property
    def question(self):
        return STUDIES[self.name]

    def add_arguments(self, parser):
        """The study's own command-line options (the shared ones are set)."""

    def describe(self, args):
        """What the report's metadata says about this run beyond the seeds."""
        return {}

    def plan(self, args):
        """The runs, in order: one dict of keys (`seed` included) per run."""
        raise NotImplementedError

    def run_one(self, args, **keys):
        """One run: a dict of results (JSON-serializable)."""
        raise NotImplementedError

    def report(self, meta, runs, out):
        """The report's Markdown; figures go to `out`."""
        raise NotImplementedError

    def tolerated(self, run):
        """Whether a failed run is expected (a peer refusing a network)."""
        return False

    def line(self, run):
        """The line printed when a run ends."""
        keys = " ".join(str(run[k]) for k in reports.KEYS if k in run)
        if "failed" in run:
            return f"{keys}: FAILED {run['failed']}"
        return f"{keys}: {run['seconds']:.1f} s"


def write(study, meta, runs, out):
    """results.json and report.md in `out`."""
    reports.write_results(out, meta, runs)
    text = study.report(meta, runs, out)
    with open(os.path.join(out, "report.md"), "w") as handle:
        handle.write(text.rstrip() + "\n")


def execute(study, args, meta):
    """Runs `study.plan(args)`, writing as it goes: (runs, failed untolerated)."""
    runs, start = [], time.perf_counter()
    for keys in study.plan(args):
        began = time.perf_counter()
        try:
            result = study.run_one(args, **keys)
        except Exception as error:  # recorded; the other runs go on
            result = {"failed": f"{type(error).__name__}: {error}".splitlines()[0]}
        runs.append({**keys, **result, "seconds": time.perf_counter() - began})
        meta["minutes"] = (time.perf_counter() - start) / 60
        print(study.line(runs[-1]), flush=True)
        write(study, meta, runs, args.out)
    bad = [r for r in runs if "failed" in r and not study.tolerated(r)]
    return runs, bad
