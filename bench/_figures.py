"""The headline figures of a benchmark: printed one per line as `name: value unit` (what
`make bench` and bench/summary.py read) and kept in the results JSON under "figures"."""

import datetime as dt
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# BENCH_RESULTS_DIR: somewhere else for a trial run, so that bench/results/ keeps the
# figures of the last full `make bench`.
RESULTS_DIR = Path(os.environ.get("BENCH_RESULTS_DIR") or ROOT / "bench" / "results")


def figure(
    name: str,
    value: float,
    unit: str,
    *,
    decimals: int = 1,
    target: str = "",
    met: bool | None = None,
) -> tuple[str, dict]:
    """Print `name: value unit` and return (name, entry) for the JSON's "figures"."""
    print(f"{name}: {value:.{decimals}f} {unit}")
    entry = {"value": round(value, 4), "unit": unit, "decimals": decimals}
    return name, {**entry, "target": target, "met": met}


def results_write(bench: str, report: dict) -> Path:
    """Write bench/results/<bench>.json (atomically: a crash leaves the previous one)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{bench}.json"
    report = {"measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **report}
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    partial.replace(path)
    print(f"Written to {path}")
    return path
