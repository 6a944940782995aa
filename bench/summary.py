"""The headline figures of `make bench`, read from bench/results/*.json (each benchmark's
"figures"): one `name: value unit` line per figure, the required ones first, with the
target and the date each was measured. Exits 1 when a required figure is missing (its
benchmark failed before writing it, or never ran), 0 otherwise: a missed target is
shown, not an error here (each benchmark's own exit status says that).

    scripts/uv.sh run --frozen python bench/summary.py
"""

import json
import os
import sys
from pathlib import Path

RESULTS_DIR = Path(
    os.environ.get("BENCH_RESULTS_DIR") or Path(__file__).resolve().parent / "results"
)
REQUIRED = (
    "intake_cases_per_s",
    "intake_p95_ms",
    "intake_vs_disk_ratio",
    "check_report_p95_s",
    "check_vs_bare_stt_ratio",
    "queue_1m_p95_ms",
    "web_rss_mb",
    "speech_worker_rss_mb",
)


def _figures() -> dict[str, tuple[dict, str, str]]:
    """Every figure of every results file: name -> (figure, benchmark, measured at)."""
    found = {}
    for path in sorted(RESULTS_DIR.glob("*.json")):
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            print(f"{path.name}: unreadable ({error})", file=sys.stderr)
            continue
        for name, entry in (report.get("figures") or {}).items():
            found[name] = (entry, path.stem, report.get("measured_at", "?"))
    return found


def _line(name: str, entry: dict) -> str:
    """The line the benchmark printed: `name: value unit`."""
    return f"{name}: {entry['value']:.{entry.get('decimals', 1)}f} {entry['unit']}"


def main() -> int:
    figures = _figures()
    print(f"\nSummary of the benchmarks ({RESULTS_DIR}):")
    missing = []
    for name in (*REQUIRED, *sorted(set(figures) - set(REQUIRED))):
        if name not in figures:
            missing.append(name)
            continue
        entry, bench, measured_at = figures[name]
        verdict = {True: "met", False: "MISSED", None: ""}[entry.get("met")]
        target = f"target {entry['target']}" if entry.get("target") else ""
        print(f"{_line(name, entry):<42} {verdict:<7}{target:<40} ({bench}, {measured_at})")
    for name in missing:
        print(f"{name}: MISSING (no benchmark wrote it)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
