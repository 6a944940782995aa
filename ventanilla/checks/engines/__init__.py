"""The analyst's eyes, as plain functions: no Django models, no database.

Each engine takes bytes, images (NumPy arrays, BGR as OpenCV reads them) or text,
plus the applicant's declared data, and returns a `Finding`: what an analyst
would conclude, with the figures and thresholds that led there. The checks layer
(`ventanilla.checks.services`) stores findings as `CheckResult` rows.

Findings advise; they never decide (LOPDP art. 20).
"""

from dataclasses import dataclass, field
from typing import Any

PASS = "pass"  # noqa: S105 (an outcome, not a password)
WARN = "warn"
FAIL = "fail"
ERROR = "error"

_RANK = {PASS: 0, WARN: 1, ERROR: 2, FAIL: 3}


@dataclass
class Finding:
    """One conclusion. `summary` is one Spanish sentence for the analyst;
    `evidence` is JSON-serialisable (figures, thresholds, texts);
    `attachments` are small files (e.g. face crops as JPEG bytes) that the
    checks layer stores privately and links from the evidence by name."""

    outcome: str
    summary: str
    score: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    attachments: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.outcome not in _RANK:
            raise ValueError(f"unknown outcome {self.outcome!r}")


def worst(outcomes) -> str:
    """The most serious of several outcomes (fail > error > warn > pass); pass when empty."""
    return max(outcomes, key=_RANK.__getitem__, default=PASS)
