"""Tests: the same settings as production, with throwaway secrets and folders."""

import atexit
import os
import shutil
import tempfile

from .rate_limit_names import RATE_LIMIT_SETTINGS

os.environ.setdefault("SECRET_KEY", "test-only-not-secret-ventanilla-key")
# The files' master key: base64 of "test-only-not-secret-file-key-00" (docs/security.md, A).
os.environ.setdefault("FILE_ENCRYPTION_KEYS", "test:dGVzdC1vbmx5LW5vdC1zZWNyZXQtZmlsZS1rZXktMDA=")
if "PRIVATE_STORAGE_DIR" not in os.environ:
    # The process that makes the folder removes it; the workers it starts inherit it.
    os.environ["PRIVATE_STORAGE_DIR"] = tempfile.mkdtemp(prefix="ventanilla-test-files-")
    atexit.register(shutil.rmtree, os.environ["PRIVATE_STORAGE_DIR"], ignore_errors=True)
# E. Upload hardening: every upload of the tests is scanned by a real clamd, started by the
# root conftest.py on this socket with a test-made database (ventanilla/testing/clamav.py).
if "CLAMAV_URL" not in os.environ:
    _clamd_dir = tempfile.mkdtemp(prefix="ventanilla-clamd-")
    os.environ["CLAMAV_URL"] = f"unix://{_clamd_dir}/clamd.sock"
    atexit.register(shutil.rmtree, _clamd_dir, ignore_errors=True)

# D1: the limits are on, but far above what any test does; the rate-limit tests set small
# ones (ventanilla/portal/tests/test_rate_limits.py).
for _name in RATE_LIMIT_SETTINGS:
    os.environ.setdefault(_name, "100000/h")

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

# SMS the tests queue are written under the throwaway folder, never to var/sms (unless a
# test names its own folder for a worker process it starts).
if "SMS_FILE_DIR" not in os.environ:
    SMS_FILE_DIR = Path(os.environ["PRIVATE_STORAGE_DIR"]) / "sms"  # noqa: F405
