"""Tests: the same settings as production, with throwaway secrets and folders."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-not-secret-ventanilla-key")
os.environ.setdefault("PRIVATE_STORAGE_DIR", tempfile.mkdtemp(prefix="ventanilla-test-files-"))

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The lock-out is tested, not switched off: sign staff in with
# ventanilla.testing.staff.staff_login (client.login has no request for django-axes).
AXES_ENABLED = True

# A file, not memory, so that a worker process started by a test sees the same database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"ventanilla-test-{os.getpid()}.sqlite3")
    }
