"""Reporting of the initialization quality benchmark: summaries, merging, Markdown.

Turns the runs that `init_quality.py` records (results.json: per cell, per
method, one entry per seed) into what docs/benchmarks.md shows: per-method
summaries (`summarize`), the goal check (`verdict`), learning-curve plots
(`plot`), and the report itself (`write_report`, one table per cell by
`table_row`, written with `_tables.markdown_table`). `rebuild` merges several
results.json files (runs of different cells) into one and rewrites the report
and plots from them, without training: `init_quality.py --from-results`.

Nothing here trains or builds a network.
"""

import json
import os

import numpy as np
from _tables import markdown_table, mean_std, number
from init_quality_methods import BASELINE, NOT_COMPETING, STANDARD


def completed(runs):
    """The runs that trained (not failed ones)."""
    return [r for r in runs if not r.get("failed")]


def epochs_of(cell):
    """The supervised epochs of a cell's runs (results.json's `cells` entry)."""
    return next(len(r["accuracy"]) for runs in cell.values() for r in completed(runs))


def summarize(results, epochs):
    """Per method: means/stds at epochs 1, 3, 10, last; epochs to He's final;
    the cost of getting there.

    `to_he_s`: mean over seeds of the pretraining (or setup) seconds plus the
    supervised seconds to the end of epoch `to_he` (None where `to_he` is, or
    where the runs did not record per-epoch times); `cost_ratio`: mean over
    seeds of the pretraining seconds over the whole supervised run's. A
    method whose every run failed gets `failed` (the first error) and no
    accuracies.
    """
    he_final = np.mean([r["accuracy"][-1] for r in completed(results[BASELINE])])
    summary = {}
    for method, runs in results.items():
        done = completed(runs)
        failed = [r["failed"] for r in runs if r.get("failed")]
        if not done:
            summary[method] = dict(
                at={},
                failed=failed[0],
                to_he=None,
                to_he_s=None,
                cost_ratio=None,
                diverged=0,
                runs=len(runs),
                failures=len(failed),
                pretrain_s=float(np.mean([r["pretrain_s"] for r in runs])),
                train_s=None,
                curve=[],
            )
            continue
        acc = np.array([r["accuracy"] for r in done])
        mean = acc.mean(0)
        reached = np.nonzero(mean >= he_final - 1e-9)[0]
        to_he = int(reached[0]) + 1 if len(reached) else None
        timed = to_he is not None and all(
            len(r.get("epoch_s") or ()) >= to_he for r in done
        )
        summary[method] = dict(
            at={
                e: (acc[:, e - 1].mean(), acc[:, e - 1].std())
                for e in sorted({1, 3, 10, epochs})
                if e <= epochs
            },
            to_he=to_he,
            to_he_s=(
                float(
                    np.mean([r["pretrain_s"] + r["epoch_s"][to_he - 1] for r in done])
                )
                if timed
                else None
            ),
            cost_ratio=float(np.mean([r["pretrain_s"] / r["train_s"] for r in done])),
            diverged=sum(r["diverged"] for r in done),
            runs=len(runs),
            failures=len(failed),
            pretrain_s=float(np.mean([r["pretrain_s"] for r in done])),
            train_s=float(np.mean([r["train_s"] for r in done])),
            curve=mean.tolist(),
            epoch0=epoch0_summary(done),
        )
    return summary


def epoch0_summary(runs):
    """Means over seeds of the runs' epoch-0 statistics ({} if not recorded)."""
    recorded = [r["epoch0"] for r in runs if r.get("epoch0")]
    if not recorded:
        return {}
    return {key: float(np.mean([r[key] for r in recorded])) for key in recorded[0]}


def epoch0_cell(s):
    """'std min-max, dead, sat' of a summary's epoch-0 statistics, or '-'."""
    e = s.get("epoch0") or {}
    if not e:
        return "-"
    return (
        f"{e['min_std']:.2g}-{e['max_std']:.2g}, {e['max_dead']:.2f}, "
        f"{e['max_saturated']:.2f}"
    )


def verdict(summary, method="GAN (default)", epoch=3):
    """(best at `epoch`?, within 2 std of the best standard initializer?).

    "Best" is among the methods it competes with: the standard initializers,
    LSUV, the autoencoder and the paper's form, not our own ablations.
    """
    standard = STANDARD
    means = {
        m: s["at"][epoch][0]
        for m, s in summary.items()
        if epoch in s["at"] and m not in NOT_COMPETING
    }
    if method not in means:
        return None, None
    best = max(means, key=means.get)
    best_standard = max((m for m in standard if m in means), key=means.get)
    gap = means[best_standard] - means[method]
    std = summary[best_standard]["at"][epoch][1]
    return best == method, gap <= 2 * std + 1e-9


def plot(name, summary, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    colors = iter(plt.get_cmap("tab10").colors)
    for method, s in summary.items():
        if not s["curve"]:  # failed in every run
            continue
        # Our default stands out (thick black, on top); the standard
        # initializers get a colour each; our ablations are thin gray lines.
        if method == "GAN (default)":
            style = dict(color="black", linewidth=2.5, zorder=3)
        elif method in NOT_COMPETING:
            style = dict(color="gray", linewidth=1, linestyle=":")
        else:
            style = dict(color=next(colors, "gray"), linestyle="--")
        axis.plot(range(1, len(s["curve"]) + 1), s["curve"], label=method, **style)
    axis.set(title=name, xlabel="epoch", ylabel="validation accuracy (mean)")
    axis.legend(fontsize=7, loc="lower right")
    axis.grid(alpha=0.3)
    path = os.path.join(out_dir, f"{name}.png")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def header(meta):
    minutes = meta.get("minutes")
    return (
        f"Produced by `{meta.get('command', 'see results.json')}` on "
        f"{meta.get('date', 'see results.json')}, {meta.get('machine', '')}, "
        f"{meta.get('keras', '')}"
        + (f", in {minutes:.0f} minutes" if minutes else "")
        + f". Seeds per cell: {meta.get('seeds')}; supervised epochs: "
        f"{meta.get('epochs')}; pretraining epochs: {meta.get('pretrain_epochs')}."
    )


# The overview's columns: one row per cell.
OVERVIEW_COLUMNS = [
    "cell",
    "GAN (default)",
    "rank",
    "GAN (paper)",
    "best standard",
    "default - best standard",
    "AnyInit",
    "no pretraining",
]
# A cell table's columns after the accuracy ones (epoch 1, 3, 10, last).
CELL_COLUMNS = [
    "to He",
    "to He s",
    "div",
    "pretrain s",
    "train s",
    "pretrain / train",
    "epoch 0: std, dead, sat",
]


def write_report(all_summaries, intro, out_md, findings=None):
    """benchmarks.md: goal check, overview, per-cell tables; `findings` (a
    Markdown file written by hand after reading the results) goes after the
    goal check."""
    produced = [
        "## How these tables were produced",
        "",
        intro,
        "",
    ]
    lines = [
        "# Initialization quality benchmark",
        "",
        "Findings first (written by hand), then the goal check, an overview "
        "and one table per cell; the commands that produced them are in "
        "'How these tables were produced', before the tables.",
        "",
        "Validation accuracy, mean ± std over seeds. 'to He' = first epoch whose "
        "mean reaches HeNormal's final mean accuracy (- if never). 'to He s' = "
        "the wall time to get there, pretraining included: the pretraining (or "
        "setup: building the network, LSUV's or AnyInit's pass) plus the "
        "supervised run's seconds to the end of that epoch, validation included "
        "(- if never, or not recorded). 'div' = diverged runs (NaN or exploding "
        "loss). Times are per run, in seconds. 'pretrain / train' = the "
        "pretraining or setup seconds over the whole supervised run's. 'epoch "
        "0' = the extractor's activations on 512 test samples before supervised "
        "training (`keras_ganinit.activation_report`, mean over seeds): the "
        "smallest-largest output std over its layers, the largest dead and the "
        "largest saturated fraction. A method that could not initialize the "
        "network is marked failed, with its error.",
        "",
    ]
    wins = within = counted = diverged = 0
    overview = [
        "## Where GAN init helps, and where it does not",
        "",
        "Epoch-3 mean validation accuracy per cell: our default, the paper's form, "
        "the best standard initializer (LeCun, Glorot, He, orthogonal, "
        "RandomNormal(0.02), LSUV) and AnyInit (empirical). 'rank' is the "
        "default's place among all methods run in the cell, our ablations "
        "included.",
        "",
    ]
    overview_rows = []
    no_pretraining = "Orthogonal + LSUV + centering, no pretraining"
    beats_ablation = ablation_cells = 0
    tables = []
    for name, summary in all_summaries.items():
        best, ok = verdict(summary)
        if best is not None:
            counted += 1
            wins += bool(best)
            within += bool(ok)
            diverged += summary["GAN (default)"]["diverged"]
            at3 = {m: s["at"][3][0] for m, s in summary.items() if 3 in s["at"]}
            standard = [m for m in at3 if m in STANDARD]
            top = max(standard, key=at3.get)
            rank = sorted(at3, key=at3.get, reverse=True).index("GAN (default)") + 1
            paper = f"{at3['GAN (paper)']:.3f}" if "GAN (paper)" in at3 else "-"
            ablation = f"{at3[no_pretraining]:.3f}" if no_pretraining in at3 else "-"
            anyinit = summary.get("AnyInit", {})
            anyinit = (
                f"{at3['AnyInit']:.3f}"
                if "AnyInit" in at3
                else ("failed" if anyinit.get("failed") else "-")
            )
            if no_pretraining in at3:
                ablation_cells += 1
                beats_ablation += at3["GAN (default)"] > at3[no_pretraining]
            overview_rows.append(
                [
                    name,
                    f"{at3['GAN (default)']:.3f}",
                    f"{rank}/{len(at3)}",
                    paper,
                    f"{top} {at3[top]:.3f}",
                    f"{at3['GAN (default)'] - at3[top]:+.3f}",
                    anyinit,
                    ablation,
                ]
            )
        epochs_shown = list(summary[BASELINE]["at"])
        rows = [
            table_row(method, s, len(epochs_shown)) for method, s in summary.items()
        ]
        tables += [
            f"## {name}",
            "",
            f"![{name}](benchmarks/{name}.png)",
            "",
            markdown_table(
                ["initializer", *(f"epoch {e}" for e in epochs_shown), *CELL_COLUMNS],
                rows,
            ),
            "",
        ]
    overview.append(markdown_table(OVERVIEW_COLUMNS, overview_rows))
    lines += [
        f"**Goal check** (GAN (default) best at epoch 3, against the standard "
        f"initializers, LSUV, the autoencoder and the paper's form, in >= 60% of "
        f"cells; never more than 2 std below the best standard initializer; never "
        f"diverging): "
        f"best in {wins}/{counted} cells; within 2 std in {within}/{counted}; "
        f"diverged runs: {diverged}. The goal is "
        + (
            "met."
            if counted and wins >= 0.6 * counted and within == counted and not diverged
            else "**not met** in these cells."
        ),
        "",
        *([open(findings).read().strip(), ""] if findings else []),
        *(
            [
                f"**Does the pretraining matter?** The same calibration on random "
                f"orthogonal kernels ('{no_pretraining}', the last column below) "
                f"is behind GAN (default) at epoch 3 in {beats_ablation}/"
                f"{ablation_cells} cells.",
                "",
            ]
            if ablation_cells
            else []
        ),
        *(overview if counted else []),
        "",
        *produced,
        *tables,
    ]
    with open(out_md, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def table_row(method, s, columns):
    """One method's cells in its cell's table, `columns` accuracy columns wide:
    the method, its accuracies, then one cell per `CELL_COLUMNS`."""
    if not s["at"]:  # failed in every run
        return [
            method,
            f"failed: {s['failed']}",
            *[""] * (columns - 1),
            "-",
            "-",
            f"{s['failures']}/{s['runs']} failed",
            f"{s['pretrain_s']:.1f}",
            "-",
            "-",
            "-",
        ]
    failures = f" ({s['failures']} failed)" if s.get("failures") else ""
    return [
        method,
        *(mean_std(m, sd) for m, sd in s["at"].values()),
        s["to_he"] or "-",
        number(s.get("to_he_s"), ".1f"),
        f"{s['diverged']}/{s['runs']}{failures}",
        f"{s['pretrain_s']:.1f}",
        f"{s['train_s']:.1f}",
        number(s.get("cost_ratio"), ".3g"),
        epoch0_cell(s),
    ]


def merge_notes(notes):
    """What merging did to methods found in several files, one line each."""
    lines = []
    for (kind, method), cells in notes.items():
        where = f"{len(cells)} cells" if len(cells) > 3 else ", ".join(cells)
        if kind == "same":
            lines.append(
                f"{method} was run again beside later methods and reproduced "
                f"its earlier accuracies exactly ({where}); the tables keep the "
                f"later file's runs (their seconds differ)."
            )
        else:
            lines.append(
                f"In {where} a later run's {method} replaces an earlier one's; "
                f"the cell's other methods keep their own runs (the 'div' "
                f"column gives each method's number of runs)."
            )
    return " ".join(lines)


def rebuild(paths, command, out, renames=(), findings=None):
    """Rewrites the report and plots from results.json files, without training.

    Several files (runs of different cells) are merged into one report and one
    `results.json`; where two files hold the same cell, the later file's
    methods replace the earlier one's and the others are kept. `renames`
    ("OLD=NEW" strings) relabel methods whose names changed while the
    computation stayed the same.
    """
    mapping = dict(r.split("=", 1) for r in renames)
    raw, intros, parts, notes = {}, [], [], {}
    for path in paths:
        with open(path) as handle:
            stored = json.load(handle)
        cells = {
            cell: {mapping.get(m, m): runs for m, runs in methods.items()}
            for cell, methods in stored.get("cells", stored).items()
        }
        for meta in stored.get("meta", {}).get("parts", [stored.get("meta", {})]):
            meta = dict(meta)
            meta.setdefault("command", command)
            meta.setdefault("cells", list(cells))
            first = cells[meta["cells"][0]]
            meta.setdefault("seeds", len(next(iter(first.values()))))
            meta.setdefault("epochs", epochs_of(first))
            parts.append(meta)
            intros.append(
                header(meta)
                + (f" Cells: {', '.join(meta['cells'])}." if len(paths) > 1 else "")
            )
        for cell, methods in cells.items():
            earlier = raw.setdefault(cell, {})
            for m in methods:
                if m in earlier:
                    same = [r.get("accuracy") for r in earlier[m]] == [
                        r.get("accuracy") for r in methods[m]
                    ]
                    key = ("same", m) if same else ("replaced", m)
                    notes.setdefault(key, []).append(cell)
            earlier.update(methods)
    out_dir = os.path.join(out, "benchmarks")
    os.makedirs(out_dir, exist_ok=True)
    summaries = {name: summarize(cell, epochs_of(cell)) for name, cell in raw.items()}
    for name, summary in summaries.items():
        plot(name, summary, out_dir)
    intro = "\n\n".join(dict.fromkeys(intros))
    if notes:
        intro += "\n\n" + merge_notes(notes)
    if mapping:
        intro += (
            " Rebuilt with `--from-results`; labels renamed after the run, the "
            "computations unchanged: "
            + "; ".join(f"'{old}' is now '{new}'" for old, new in mapping.items())
            + "."
        )
    with open(os.path.join(out_dir, "results.json"), "w") as handle:
        json.dump({"meta": {"parts": parts}, "cells": raw}, handle)
    write_report(summaries, intro, os.path.join(out, "benchmarks.md"), findings)
    return summaries
