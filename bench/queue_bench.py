"""Benchmark of the analysts' queue (issue 5): the queue page, its filters and its search
on 1,000,000 cases in PostgreSQL 15: server time p50/p95 and queries per request.

Starts a throwaway PostgreSQL 15 the way .ci/run does (initdb under /tmp as the
postgres user, trust authentication, fsync off), on a free port; migrates; generates
the cases with `manage.py generate_cases` (rows only: no files, no documents, no
transitions); creates staff users. Then, in this process, Django's test client signed in
with `staff_login` (password and second factor) asks each page BENCH_RUNS times after a
warm-up; the time is the whole request in Django (middleware, the queries, the template),
DEBUG off, settings `ventanilla.settings.dev`, the database on this machine over TCP.

The query count is taken once per page with CaptureQueriesContext, on 10,000 cases first
and again on the full set: "constant" means no more queries on the full set (a page
that was empty on the small set skips the working-day calendar, one query less). The slowest query of
all is shown with EXPLAIN (ANALYZE, BUFFERS), and so is the slowest query of each page
over budget.

Target: p95 under 150 ms, query count constant. A page over budget is printed OVER
BUDGET; the script exits non-zero only when it fails itself. The figures go to
bench/results/queue.json. PostgreSQL is stopped and its folder removed at the end.

    make bench                                                # BENCH_RUNS=30 here
    BENCH_CASES=100000 scripts/uv.sh run --frozen python bench/queue_bench.py
"""

import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _figures import figure, results_write
from _pg import Postgres  # bench/_pg.py: the throwaway PostgreSQL 15

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
CASES = int(os.environ.get("BENCH_CASES", "1000000"))
FIRST_CASES = min(10_000, CASES)  # the query counts are compared at this size and at CASES
CASE_NUMBER = re.compile(r"VV-\d{4}-\d{6}-[0-9A-Z]")
TARGET_MS = 150
# Set for loading speed and a modest server; nothing here changes a plan's shape.
PG_SETTINGS = {
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "512MB",
    "max_wal_size": "4GB",
}


def _setup_django(database_url: str, workdir: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "ventanilla.settings.dev",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            "PRIVATE_STORAGE_DIR": str(workdir / "files"),
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


class QueryLog:
    """Every query of a request with its parameters and time (an execute wrapper)."""

    def __init__(self):
        self.queries: list[dict] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append(
                {"sql": sql, "params": params, "ms": (time.perf_counter() - started) * 1000}
            )


def _scenarios(analyst_id: int, sample) -> list[tuple[str, str, str]]:
    """(name, who asks, query string) of every page measured."""
    first_word = sample.last_names.split()[0]
    two_words = "José Guamán"  # a common first name and surname, typed with their accents
    return [
        ("queue (default order)", "supervisor", ""),
        ("queue page 2", "supervisor", "pagina=2"),
        ("queue page 100", "supervisor", "pagina=100"),
        ("status in_review", "supervisor", "estado=in_review"),
        ("status call_pending", "supervisor", "estado=call_pending"),
        ("status completed (final)", "supervisor", "estado=completed"),
        ("country ES", "supervisor", "pais=ES"),
        ("country DE (few)", "supervisor", "pais=DE"),
        ("unassigned", "supervisor", "analista=sin"),
        ("one analyst", "supervisor", f"analista={analyst_id}"),
        ("mine (analyst)", "analyst", "analista=yo"),
        ("at risk", "supervisor", "riesgo=1"),
        ("flagged by checks", "supervisor", "marcado=1"),
        ("at risk + flagged + ES", "supervisor", "riesgo=1&marcado=1&pais=ES"),
        ("search case number", "supervisor", f"q={sample.number}"),
        ("search ID number", "supervisor", f"q={sample.id_number}"),
        ("search one name word", "supervisor", f"q={first_word}"),
        ("search a name, all cases", "supervisor", f"q={first_word}&estado=todos"),
        ("search two words, accents", "supervisor", f"q={two_words}"),
        # "María de Lourdes": a word under 3 letters has no trigram, so no index helps.
        ("search a 2-letter word", "supervisor", "q=de"),
    ]


def _query_count(client, path: str) -> tuple[int, QueryLog, int]:
    """Queries of one request, each with its time, and how many cases the page shows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    log = QueryLog()
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(log):
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    return len(captured), log, len(set(CASE_NUMBER.findall(response.content.decode())))


def _explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="ventanilla-bench-queue-"))
    postgres = Postgres(settings=PG_SETTINGS)
    # A SIGTERM (make interrupted, a time-out) still stops PostgreSQL: finally runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        database_url = postgres.start()
        return _measure(postgres, database_url, workdir)
    finally:
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(postgres: Postgres, database_url: str, workdir: Path) -> int:
    _setup_django(database_url, workdir)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from ventanilla.cases.models import OPEN_STATUSES, Case
    from ventanilla.staff.roles import Role
    from ventanilla.staff.services import staff_user_ensure
    from ventanilla.testing.staff import staff_login

    print(
        f"Benchmark of the queue: {CASES:,} cases, {os.cpu_count()} CPUs, {RUNS} runs, "
        f"{postgres.version()} on 127.0.0.1:{postgres.port}"
    )
    call_command("migrate", verbosity=0)
    password = "bench-queue-not-secret"  # noqa: S105
    staff = {
        "analyst": staff_user_ensure(username="analista", password=password, role=Role.ANALYST),
        "supervisor": staff_user_ensure(
            username="supervisor", password=password, role=Role.SUPERVISOR
        ),
    }
    for n in range(1, 8):  # a team: the cases are spread among them
        staff_user_ensure(username=f"analista{n}", password=password, role=Role.ANALYST)
    clients = {}
    for who, user in staff.items():
        clients[who] = Client()
        staff_login(clients[who], user)

    def generate(count: int, seed: int) -> float:
        started = time.perf_counter()
        call_command("generate_cases", count=count, seed=seed, stdout=sys.stdout)
        return time.perf_counter() - started

    generate(FIRST_CASES, seed=1)
    sample = Case.objects.order_by("submitted_at")[FIRST_CASES // 2]
    scenarios = _scenarios(staff["analyst"].pk, sample)
    small_counts = {
        name: _query_count(clients[who], f"/gestion/?{query}") for name, who, query in scenarios
    }
    load_seconds = generate(CASES - FIRST_CASES, seed=2) if CASES > FIRST_CASES else 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('cases_case'))")
        table_size = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FILTER (WHERE status = ANY(%s)), count(*) FROM cases_case",
            [list(OPEN_STATUSES)],
        )
        open_cases, total = cursor.fetchone()
    print(
        f"Loaded in {load_seconds:.0f} s: {total:,} cases ({open_cases:,} open), "
        f"cases_case {table_size} with its indexes"
    )

    results = []
    slowest = None
    for name, who, query in scenarios:
        client = clients[who]
        path = f"/gestion/?{query}"
        count, log, shown = _query_count(client, path)  # also the warm-up
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
        # The slowest query on the cases (the session and sign-in queries are the same on
        # every page).
        top = max(
            [q for q in log.queries if "cases_case" in q["sql"]] or log.queries,
            key=lambda q: q["ms"],
        )
        small_count, small_log, small_shown = small_counts[name]
        result = {
            "page": name,
            "as": who,
            "path": path,
            "p50_ms": statistics.median(times),
            "p95_ms": _p95(times),
            "runs_ms": [round(t, 2) for t in times],
            "cases_shown": shown,
            "queries": count,
            "queries_list": [{"ms": round(q["ms"], 2), "sql": q["sql"][:300]} for q in log.queries],
            f"queries_at_{FIRST_CASES}": small_count,
            f"cases_shown_at_{FIRST_CASES}": small_shown,
            # More queries on the big set is growth; one query less or more because the
            # small page was empty (no deadline to compute) is not.
            "query_count_grows": count > small_count and small_shown > 0,
            # Time in the database (all queries of one request) versus the whole request.
            "db_ms": round(sum(q["ms"] for q in log.queries), 2),
            "slowest_query_ms": top["ms"],
            "slowest_query": top["sql"],
            "over_budget": _p95(times) >= TARGET_MS,
        }
        if result["over_budget"]:
            result["slowest_query_plan"] = _explain(top["sql"], top["params"])
        results.append(result)
        if slowest is None or top["ms"] > slowest[1]["ms"]:
            slowest = (name, top)
        print(
            f"  {name:<28} p50 {result['p50_ms']:7.1f} ms  p95 {result['p95_ms']:7.1f} ms  "
            f"{count:>3} queries ({result['db_ms']:5.1f} ms)  "
            f"{'OVER BUDGET' if result['over_budget'] else 'ok'}"
        )

    plan = _explain(slowest[1]["sql"], slowest[1]["params"])
    _print(results, slowest, plan)
    worst = max(r["p95_ms"] for r in results)
    if total != 1_000_000:
        print(f"NOTE: queue_1m_p95_ms below is measured on {total:,} cases, not 1,000,000.")
    figures = dict(
        [
            figure(
                "queue_1m_p95_ms",
                worst,
                "ms",
                target=f"< {TARGET_MS} ms (worst page p95)",
                met=worst < TARGET_MS,
            )
        ]
    )
    _write(results, slowest, plan, postgres, load_seconds, total, open_cases, table_size, figures)
    return 0


def _print(results: list[dict], slowest, plan: str) -> None:
    print(
        f"\n{'page':<28}{'as':<11}{'p50 ms':>8}{'p95 ms':>8}{'rows':>5}{'queries':>8}"
        f"{f'at {FIRST_CASES:,}':>10}"
        f"  verdict (p95 < {TARGET_MS} ms, queries constant)"
    )
    for r in results:
        verdict = "OVER BUDGET" if r["over_budget"] else "ok"
        if r["query_count_grows"]:
            verdict += ", QUERY COUNT GROWS"
        print(
            f"{r['page']:<28}{r['as']:<11}{r['p50_ms']:>8.1f}{r['p95_ms']:>8.1f}"
            f"{r['cases_shown']:>5}{r['queries']:>8}{r[f'queries_at_{FIRST_CASES}']:>10}  {verdict}"
        )
    over = [r["page"] for r in results if r["over_budget"]]
    growing = [r["page"] for r in results if r["query_count_grows"]]
    print(
        f"\n{len(results) - len(over)} of {len(results)} pages with p95 under {TARGET_MS} ms"
        + (f"; OVER BUDGET: {', '.join(over)}" if over else "")
    )
    print(
        f"Query count no higher on the full set than at {FIRST_CASES:,} cases on every page"
        if not growing
        else f"Query count GROWS on: {', '.join(growing)}"
    )
    for r in results:
        if r["over_budget"]:
            print(f"\nOVER BUDGET {r['page']}: its slowest query ({r['slowest_query_ms']:.1f} ms)")
            print(r["slowest_query_plan"])
    print(f"\nSlowest query ({slowest[0]}, {slowest[1]['ms']:.1f} ms):\n{slowest[1]['sql']}")
    print(f"params: {slowest[1]['params']}\n\nEXPLAIN (ANALYZE, BUFFERS):\n{plan}")


def _write(
    results, slowest, plan, postgres, load_seconds, total, open_cases, table_size, figures
) -> None:
    report = {
        "benchmark": "back-office queue and search: server time and queries per request",
        "figures": figures,
        "runs": RUNS,
        "target_p95_ms": TARGET_MS,
        "cpus": os.cpu_count(),
        "postgres": postgres.version(),
        "postgres_settings": PG_SETTINGS,
        "cases": total,
        "open_cases": open_cases,
        "cases_table_size": table_size,
        "load_seconds": round(load_seconds, 1),
        "pages": results,
        "slowest_query": {
            "page": slowest[0],
            "ms": slowest[1]["ms"],
            "sql": slowest[1]["sql"],
            "params": [str(p) for p in slowest[1]["params"] or []],
            "plan": plan,
        },
    }
    results_write("queue", report)


if __name__ == "__main__":
    sys.exit(main())
