"""The overall advice to the analyst, with its reasons. Advice only: the analyst decides.

- suspicious: a sign of impersonation (another face, another person's signature
  or a document changed after signing, a file or face used under another ID
  number, the video naming someone else);
- needs correction: something the citizen can fix (a blurred photo, a clause
  not said, an empty signature box, fields that disagree);
- manual review: a check could not run, so the analyst must look for it;
- ready for the call: every check passed.
"""

from .constants import CheckName, CheckOutcome, Recommendation

# A failure of these means someone may be posing as the insured person.
IMPERSONATION_CHECKS = {CheckName.FACE_MATCH, CheckName.SIGNATURE, CheckName.CROSS_CASE}
# Identity data that the cédula or the registry contradicts: not a typo in a phone number.
IDENTITY_FIELDS = {"id_number", "last_names", "first_names", "birth_date"}
IDENTITY_SOURCES = {"cédula anverso", "registro"}


def _consistency_contradicts_identity(evidence: dict) -> bool:
    return any(
        row.get("status") == "differs"
        and row.get("field") in IDENTITY_FIELDS
        and row.get("source") in IDENTITY_SOURCES
        for row in evidence.get("fields", [])
    )


def _is_impersonation(result) -> bool:
    if result.outcome != CheckOutcome.FAIL:
        return False
    if result.name in IMPERSONATION_CHECKS:
        # An empty handwritten-signature box is a correction, not an impersonation.
        return not (result.name == CheckName.SIGNATURE and result.evidence.get("handwritten"))
    if result.name == CheckName.VIDEO_STATEMENT:
        return bool(result.evidence.get("other_identity"))
    if result.name == CheckName.CONSISTENCY:
        return _consistency_contradicts_identity(result.evidence)
    return False


def recommend(results) -> tuple[str, list[str]]:
    """(recommendation, reasons) for the current results of one run."""
    reasons = [
        f"{CheckName(r.name).label}: {r.summary}" for r in results if r.outcome != CheckOutcome.PASS
    ]
    if any(_is_impersonation(r) for r in results):
        return Recommendation.SUSPICIOUS, reasons
    if any(r.outcome in (CheckOutcome.FAIL, CheckOutcome.WARN) for r in results):
        return Recommendation.NEEDS_CORRECTION, reasons
    if any(r.outcome == CheckOutcome.ERROR for r in results):
        return Recommendation.MANUAL_REVIEW, reasons
    return Recommendation.READY_FOR_CALL, reasons
