"""Writing a run's records as JSON and as markdown tables, and comparing two runs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["write_json", "markdown", "compare_markdown"]


def write_json(path: Path, result: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(tmp, path)


def _fmt_metrics(metrics: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in metrics.items())


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _counts(records: list[dict]) -> str:
    n = {s: sum(r["status"] == s for r in records) for s in ("ok", "error", "skipped")}
    return f"{n['ok']} ok, {n['error']} error" + (
        f", {n['skipped']} skipped" if n["skipped"] else ""
    )


def markdown(result: dict) -> str:
    """The run as markdown: summary, training cells, programs, errors, then every cell."""
    cells = [r for r in result["chapter"]["cells"] if r["cell"] is not None]
    lines = [
        f"# TF1 chapter 14 and programs on `{result['backend']}` (scale `{result['scale']}`)",
        "",
        f"- backend: {result['backend_version']}",
        f"- machine: {result['machine']}; run {result['started']}; load average "
        f"{' -> '.join(str(x) for x in result.get('load_average', ['?']))}",
        f"- chapter: {len(cells)} cells, {_counts(cells)}, "
        f"{result['chapter']['seconds']:.1f} s; programs: {_counts(result['programs'])}, "
        f"{sum(p.get('seconds', 0) for p in result['programs']):.1f} s; total with data and imports "
        f"{result['total_seconds']:.1f} s",
        "",
        "## Cells that print metrics (last value printed)",
        "",
        "| cell | status | time (s) | metrics |",
        "|---:|---|---:|---|",
    ]
    for r in cells:
        if r.get("metrics"):
            lines.append(
                f"| {r['cell']} | {r['status']} | {r['seconds']:.2f} | {_fmt_metrics(r['metrics'])} |"
            )
    lines += [
        "",
        "## Programs",
        "",
        "| program | status | time (s) | metrics | error |",
        "|---|---|---:|---|---|",
    ]
    for p in result["programs"]:
        lines.append(
            f"| {p['name']} | {p['status']} | {p.get('seconds', 0):.2f} | "
            f"{_fmt_metrics(p.get('metrics', {}))} | {_esc(p.get('error', ''))} |"
        )
    errors = [r for r in cells + result["programs"] if r["status"] == "error"]
    if errors:
        lines += ["", "## Errors", "", "| cell / program | line | error |", "|---|---:|---|"]
        for r in errors:
            lines.append(
                f"| {r.get('cell') or r.get('name')} | {r.get('error_line') or ''} | {_esc(r['error'])} |"
            )
    lines += [
        "",
        "## Every cell",
        "",
        "| cell | status | time (s) | metrics | error |",
        "|---:|---|---:|---|---|",
    ]
    for r in cells:
        lines.append(
            f"| {r['cell']} | {r['status']} | {r.get('seconds', 0):.3f} | "
            f"{_fmt_metrics(r.get('metrics', {}))} | {_esc(r.get('error', ''))} |"
        )
    return "\n".join(lines) + "\n"


def compare_markdown(ref: dict, run: dict) -> str:
    """Side by side: ``ref`` (e.g. real TensorFlow) and ``run``, per cell and per program."""
    a, b = ref["backend"], run["backend"]
    lines = [
        f"# `{b}` against `{a}` (scales `{run['scale']}` / `{ref['scale']}`)",
        "",
        f"Time ratio = {b} / {a} (wall time of the cell; the machine is shared, so small cells are noisy).",
        "",
        f"| cell / program | {a} | {b} | {a} s | {b} s | ratio | {a} metrics | {b} metrics |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    ref_cells = {r["cell"]: r for r in ref["chapter"]["cells"] if r["cell"] is not None}
    rows = []
    for r in run["chapter"]["cells"]:
        if r["cell"] is not None:
            rows.append((f"cell {r['cell']}", ref_cells.get(r["cell"], {}), r))
    ref_progs = {p["name"]: p for p in ref["programs"]}
    rows += [(p["name"], ref_progs.get(p["name"], {}), p) for p in run["programs"]]
    tot_a = tot_b = 0.0
    for label, x, y in rows:
        sa, sb = x.get("seconds"), y.get("seconds")
        interesting = x.get("metrics") or y.get("metrics") or x.get("status") != y.get("status")
        if sa is not None and sb is not None and x.get("status") == y.get("status") == "ok":
            tot_a, tot_b = tot_a + sa, tot_b + sb
            interesting = interesting or max(sa, sb) >= 0.5
        if not interesting:
            continue
        both_ok = x.get("status") == y.get("status") == "ok"
        ratio = f"{sb / sa:.2f}" if both_ok and sa and sb is not None else ""
        status_b = y.get("status", "-")
        if y.get("error") and x.get("status") == "ok":
            status_b += f": {_esc(y['error'][:100])}"
        lines.append(
            f"| {label} | {x.get('status', '-')} | {status_b} | "
            f"{'' if sa is None else f'{sa:.2f}'} | {'' if sb is None else f'{sb:.2f}'} | {ratio} | "
            f"{_fmt_metrics(x.get('metrics', {}))} | {_fmt_metrics(y.get('metrics', {}))} |"
        )
    lines += [
        "",
        f"Cells and programs that ran on both (each status ok): {a} {tot_a:.1f} s, {b} {tot_b:.1f} s"
        + (f", ratio {tot_b / tot_a:.2f}." if tot_a else "."),
        "Rows shown: a metric, a status that differs, or 0.5 s or more; the ratio only where both ran.",
    ]
    return "\n".join(lines) + "\n"
