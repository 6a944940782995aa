"""Local development and `make run`: the embedded default, permissive limits."""

import os

os.environ.setdefault("SECRET_KEY", "dev-only-not-secret-ventanilla-local-key")
os.environ.setdefault("DEBUG", "true")
# D1: the demo lets one person (or a script) on loopback try freely: at least 100
# submissions and 300 status look-ups an hour (docs/security.md, D).
for _name, _rate in {
    "RATE_LIMIT_SUBMISSIONS_PER_CLIENT": "200/h",
    "RATE_LIMIT_SUBMISSIONS_PER_ID": "200/h",
    "RATE_LIMIT_LOOKUPS_PER_CLIENT": "600/h",
    "RATE_LIMIT_LOOKUPS_PER_CASE": "600/h",
    "RATE_LIMIT_CORRECTIONS_PER_CLIENT": "200/h",
    "RATE_LIMIT_EMAILS_PER_CLIENT": "100/h",
    "RATE_LIMIT_EMAILS_PER_ADDRESS": "100/h",
    "RATE_LIMIT_COMPLAINTS_PER_CLIENT": "100/h",
}.items():
    os.environ.setdefault(_name, _rate)
# The files' master key: base64 of "dev-only-not-secret-file-key-000" (docs/security.md, A).
os.environ.setdefault("FILE_ENCRYPTION_KEYS", "dev:ZGV2LW9ubHktbm90LXNlY3JldC1maWxlLWtleS0wMDA=")

from .base import *  # noqa: E402,F403
