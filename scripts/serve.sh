#!/usr/bin/env bash
# Run Ventanilla the way production does, on this machine (what `make serve` does;
# docs/deployment.md): the production settings, then migrate, collectstatic and, until
# Ctrl-C or until one of them stops:
#   - gunicorn on 127.0.0.1:${PORT:-8000}, WEB_CONCURRENCY worker processes (default 2),
#     static files served by whitenoise, one access-log line per request
#   - WORKERS task workers for the "default" queue: emails, text messages (default 2)
#   - CHECK_WORKERS task workers for the "checks" queue: the verification pipeline
#     (default 1; each holds the speech and face models, several hundred MB). Both are
#     manage.py run_worker, django-tasks-db's worker made to outlive a database restart.
#   - the scheduler (deadlines, reminders, stalled work)
# Needs SECRET_KEY, FILE_ENCRYPTION_KEYS and CLAMAV_URL, and invents none of them.
# SERVE_LOCAL=1 is a try-out on loopback over plain HTTP instead: HTTPS redirect and
# secure cookies off, throwaway keys made in var/serve/ (with its own database and files
# there unless DATABASE_URL / PRIVATE_STORAGE_DIR are set), no virus scan unless CLAMAV_URL.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
PORT=${PORT:-8000}
HOST=127.0.0.1
WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
WORKERS=${WORKERS:-2}
CHECK_WORKERS=${CHECK_WORKERS:-1}
export DJANGO_SETTINGS_MODULE=ventanilla.settings.production

say() { printf '[serve] %s\n' "$*"; }
die() { printf '[serve] ERROR: %s\n' "$*" >&2; exit 1; }
uv_run() { scripts/uv.sh run --frozen --no-sync "$@"; }
manage() { uv_run python manage.py "$@"; }
listening() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
random_base64() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }

for name in PORT WEB_CONCURRENCY WORKERS CHECK_WORKERS; do
  [[ "${!name}" =~ ^[0-9]+$ ]] || die "$name must be a number, not '${!name}'."
done
[ "$WEB_CONCURRENCY" -ge 1 ] || die "WEB_CONCURRENCY must be at least 1."
[ "$WORKERS" -ge 1 ] || die "WORKERS must be at least 1: without a worker of the default queue no email or text message is sent."
[ "$CHECK_WORKERS" -ge 1 ] || die "CHECK_WORKERS must be at least 1: without a worker of the checks queue no case reaches the analyst."
scripts/uv.sh --version >/dev/null 2>&1 \
  || die "uv is missing: run 'make setup' first (or use 'make serve')."
listening "$PORT" && die "something already listens on $HOST:$PORT. Stop it, or choose another port: PORT=8001 make serve"

if [ "${SERVE_LOCAL:-}" = 1 ]; then
  serve_dir=$root/var/serve
  mkdir -p "$serve_dir"
  chmod 700 "$serve_dir"
  # Kept between runs: the files stored by one try-out stay readable by the next.
  [ -s "$serve_dir/secret_key" ] || (umask 077 && random_base64 48 >"$serve_dir/secret_key")
  [ -s "$serve_dir/file_key" ] || (umask 077 && printf 'local:%s' "$(random_base64 32)" >"$serve_dir/file_key")
  generated=()
  if [ -z "${SECRET_KEY:-}" ]; then
    SECRET_KEY=$(<"$serve_dir/secret_key")
    generated+=("SECRET_KEY ($serve_dir/secret_key)")
  fi
  if [ -z "${FILE_ENCRYPTION_KEYS:-}" ]; then
    FILE_ENCRYPTION_KEYS=$(<"$serve_dir/file_key")
    generated+=("FILE_ENCRYPTION_KEYS ($serve_dir/file_key)")
  fi
  export SECRET_KEY FILE_ENCRYPTION_KEYS
  export SECURE_SSL_REDIRECT=false SECURE_COOKIES=false
  export DATABASE_URL=${DATABASE_URL:-sqlite:///$serve_dir/ventanilla.sqlite3}
  export PRIVATE_STORAGE_DIR=${PRIVATE_STORAGE_DIR:-$serve_dir/private}
  export SITE_URL=${SITE_URL:-http://localhost:$PORT}
  say "SERVE_LOCAL=1: a try-out on $HOST over plain HTTP (no HTTPS redirect, no secure cookies)."
  for what in "${generated[@]}"; do
    say "THROWAWAY key, made on this machine for the try-out only: $what"
  done
  [ -n "${CLAMAV_URL:-}" ] || say "WARNING: CLAMAV_URL is not set: uploads are NOT scanned for viruses."
else
  missing=()
  for name in SECRET_KEY FILE_ENCRYPTION_KEYS CLAMAV_URL; do
    [ -n "${!name:-}" ] || missing+=("$name")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    die "the production settings need ${missing[*]} (see .env.example and docs/deployment.md).
  Set them from your secret store, e.g.  set -a; . ./.env; set +a; make serve
  Or try it out on this machine with throwaway keys, over plain HTTP:  SERVE_LOCAL=1 make serve"
  fi
fi

# Children and their shared stop (Ctrl-C, TERM, exit, or one of them ending).
# shellcheck source=scripts/supervise.sh
. "$root/scripts/supervise.sh"

say "migrating the database"
manage migrate --noinput
say "collecting the static files (hashed and compressed)"
manage collectstatic --noinput -v 0

set -m
for i in $(seq 1 "$WORKERS"); do
  start "task worker $i (default queue)" manage run_worker --queue-name default --no-reload
done
for i in $(seq 1 "$CHECK_WORKERS"); do
  start "checks worker $i (checks queue)" manage run_worker --queue-name checks --no-reload
done
start "scheduler" manage run_scheduler
start "web server" uv_run gunicorn ventanilla.wsgi:application \
  --bind "$HOST:$PORT" --workers "$WEB_CONCURRENCY" --access-logfile - --no-control-socket
set +m

wait_for_web "$PORT"

say "running: gunicorn on http://$HOST:$PORT ($WEB_CONCURRENCY processes), $WORKERS task workers (default queue), $CHECK_WORKERS checks workers (checks queue), the scheduler."
say "readiness: http://$HOST:$PORT/readyz   health: http://$HOST:$PORT/healthz   Ctrl-C stops everything."

# Run until one of the processes stops (or Ctrl-C), then stop the others.
run_until_one_stops
