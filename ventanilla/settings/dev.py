"""Local development and `make run`: the embedded default, permissive limits."""

import os

os.environ.setdefault("SECRET_KEY", "dev-only-not-secret-ventanilla-local-key")
os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: E402,F403
