"""What every study writes: run metadata, results.json, the report, figures.

A study's output folder holds `results.json` (`{"meta": ..., "runs": [...]}`,
every run as recorded, failed ones included), `report.md` (the tables built
from it) and its figures (PNG). `--from-results` rebuilds the report and the
figures from stored results.json files without training.
"""

import contextlib
import datetime
import json
import os
import platform

from keras_ganinit._src.utils.tables import markdown_table  # noqa: F401 (re-exported)


def metadata(command, seeds, **extra):
    """The run's command, versions, machine, date and seeds, and `extra`."""
    import keras

    return dict(
        command=command,
        backend=keras.backend.backend(),
        keras=keras.__version__,
        machine=f"{platform.platform()}, {os.cpu_count()} CPUs",
        date=datetime.date.today().isoformat(),
        seeds=list(seeds),
        minutes=0.0,
        **extra,
    )


def write_results(out, meta, runs):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as handle:
        json.dump({"meta": meta, "runs": runs}, handle, indent=None)


def read_results(paths):
    """(meta, runs) of one or more results.json files, runs concatenated.

    The first file's meta is kept, with `minutes` summed and `merged` listing
    every file's command.
    """
    metas, runs = [], []
    for path in paths:
        with open(path) as handle:
            data = json.load(handle)
        if not isinstance(data, dict) or "runs" not in data:
            raise ValueError(
                f"{path} is not a harness results.json "
                "({'meta': ..., 'runs': [...]}); pass a file that "
                "`python -m benchmarks <study> --out DIR` wrote"
            )
        metas.append(data.get("meta", {}))
        runs += data["runs"]
    meta = dict(metas[0])
    meta["minutes"] = sum(m.get("minutes", 0.0) for m in metas)
    if len(paths) > 1:
        meta["merged"] = [m.get("command", "?") for m in metas]
    return meta, runs


def header(title, meta, question=None):
    """The report's first lines: its title, question, command and machine."""
    lines = [f"## {title}", ""]
    if question:
        lines += [f"Question: {question}", ""]
    lines += [
        f"Command: `{meta.get('command', '?')}`  ",
        f"Keras {meta.get('keras', '?')} on {meta.get('backend', '?')}; "
        f"{meta.get('machine', '?')}; {meta.get('date', '?')}; "
        f"{meta.get('minutes', 0.0):.1f} minutes.  ",
        f"Seeds: {' '.join(map(str, meta.get('seeds', [])))}.",
        "",
    ]
    if "protocol" in meta:
        lines += [f"Protocol of these runs: {meta['protocol']}.", ""]
    for command in meta.get("merged", []):
        lines.append(f"- merged from: `{command}`")
    return lines


def failures(runs):
    """One line per failed run."""
    lines = []
    for run in runs:
        if "failed" in run:
            keys = ", ".join(f"{k}={v}" for k, v in run.items() if k in KEYS)
            lines.append(f"- failed: {keys}: {run['failed']}")
    return lines


KEYS = ("cell", "network", "depth", "activation", "optimizer", "method", "seed")


@contextlib.contextmanager
def figure(path, *args, **kwargs):
    """A matplotlib figure (Agg) saved to `path` when the block ends."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(*args, squeeze=False, **kwargs)
    try:
        yield fig, axes
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def device():
    """The accelerator Keras's backend runs on ("GPU name"), or "CPU"."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        found = jax.devices()[0]
        return "CPU" if found.platform == "cpu" else found.device_kind
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    details = tf.config.experimental.get_device_details(gpus[0]) if gpus else {}
    return details.get("device_name", "GPU") if gpus else "CPU"
