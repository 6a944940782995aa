"""Check that .env.example documents every variable the settings read, and no other.

Run by `make lint`. Reads ventanilla/settings/*.py for env.X("NAME", ...),
env("NAME"), os.environ.get("NAME") and os.getenv("NAME"), and .env.example for
lines `NAME=...` (commented out or not). Standard library only.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Read by the scripts rather than by the settings.
EXTRA_ALLOWED = {  # read by scripts/serve.sh
    "PORT",
    "SERVE_LOCAL",
    "WEB_CONCURRENCY",
    "WORKERS",
    "CHECK_WORKERS",
}

READ = re.compile(
    r"""(?:\benv(?:\.\w+)?|os\.environ\.get|os\.getenv|os\.environ\.setdefault)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)
DOCUMENTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE"}


def main() -> int:
    read: set[str] = set()
    for path in sorted((ROOT / "ventanilla" / "settings").glob("*.py")):
        read.update(READ.findall(path.read_text(encoding="utf-8")))
    read -= NOT_SETTINGS
    documented = set(DOCUMENTED.findall((ROOT / ".env.example").read_text(encoding="utf-8")))
    missing = sorted(read - documented)
    stale = sorted(documented - read - EXTRA_ALLOWED)
    if missing:
        print(".env.example lacks (read in ventanilla/settings):", ", ".join(missing))
    if stale:
        print(".env.example lists variables no setting reads:", ", ".join(stale))
    if missing or stale:
        return 1
    print(f".env.example documents all {len(read)} variables the settings read.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
