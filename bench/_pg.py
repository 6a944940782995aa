"""The benchmarks' throwaway PostgreSQL 15: the cluster of ventanilla/testing/postgres.py
(the fault tests use it too: initdb under /tmp, trust authentication on 127.0.0.1, a free
port, a `ventanilla` role and database), importable from a script run as
`python bench/<name>.py`, plus what the benchmarks read of the running server.

    postgres = Postgres(settings={"fsync": "off"})
    url = postgres.start()   # postgres://ventanilla@127.0.0.1:PORT/ventanilla
    ...
    postgres.stop()          # stops it and deletes its data
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ventanilla.testing.postgres import PostgresCluster, free_port  # noqa: E402

__all__ = ["Postgres", "free_port"]


class Postgres(PostgresCluster):
    def postmaster_pid(self) -> int | None:
        """The server's main process (the first line of postmaster.pid), or None."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
