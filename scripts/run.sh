#!/usr/bin/env bash
# Start Ventanilla locally (what `make run` does after scripts/setup.sh):
# migrate, load the demo data, then run together, until Ctrl-C:
#   - the web server on 127.0.0.1:${PORT:-8000}
#   - two task workers (manage.py run_worker): one for the "default" queue (emails,
#     text messages), one for the "checks" queue (the verification pipeline)
#   - the scheduler (deadlines, reminders, stalled work)
#   - a mail sink on 127.0.0.1:2525 keeping emails in var/mail/, unless
#     EMAIL_URL is set (then mail goes where it says).
#   - ClamAV's daemon scanning every upload, with a demo signature database made
#     in var/clamav/ (the EICAR test string), unless CLAMAV_URL is set (then
#     uploads are scanned where it says). freshclam is never run.
# Respects DATABASE_URL, EMAIL_URL, PORT, SITE_URL and the other variables in
# .env.example. If any of the processes stops, the others are stopped too.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
PORT=${PORT:-8000}
HOST=127.0.0.1
MAIL_PORT=2525
DEMO_PASSWORD=demo-ventanilla-2026

say() { printf '[run] %s\n' "$*"; }
die() { printf '[run] ERROR: %s\n' "$*" >&2; exit 1; }
manage() { scripts/uv.sh run --frozen --no-sync python manage.py "$@"; }
listening() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
redact() { sed -E 's#(://[^:/@]*:)[^@]*@#\1***@#' <<<"$1"; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "PORT must be a number, not '$PORT'."
scripts/uv.sh --version >/dev/null 2>&1 \
  || die "uv is missing: run 'make setup' first (or use 'make run')."
listening "$PORT" && die "something already listens on $HOST:$PORT. Stop it, or choose another port: PORT=8001 make run"

# Links in emails must point at this server. "localhost" rather than the address: browsers
# refuse passkeys (WebAuthn) on a bare IP address, and localhost counts as a secure origin.
export SITE_URL=${SITE_URL:-http://localhost:$PORT}

start_mail_sink=false
if [ -z "${EMAIL_URL:-}" ]; then
  if listening "$MAIL_PORT"; then
    mail_where="something already listens on smtp://$HOST:$MAIL_PORT (another mail sink?): the demo emails go there"
  else
    start_mail_sink=true
    mail_where="saved as .eml files in $root/var/mail/ (mail sink on smtp://$HOST:$MAIL_PORT; one line per message below)"
  fi
else
  mail_where="sent through EMAIL_URL=$(redact "$EMAIL_URL")"
fi
if [ -n "${DATABASE_URL:-}" ]; then
  database="DATABASE_URL=$(redact "$DATABASE_URL")"
else
  database="$root/var/ventanilla.sqlite3 (SQLite; set DATABASE_URL for another database)"
fi

# Virus scanning (docs/security.md, E): a clamd of the demo's own unless CLAMAV_URL is set.
start_clamd=false
if [ -z "${CLAMAV_URL:-}" ]; then
  clamd_bin=$(command -v clamd || echo /usr/sbin/clamd)
  if [ -x "$clamd_bin" ]; then
    start_clamd=true
    clamav_dir=$root/var/clamav
    mkdir -p "$clamav_dir/db"
    # The EICAR test string, in two pieces so that this script is not itself flagged; a
    # body signature (.ndb) finds it anywhere in a file, e.g. in a JPEG's comment.
    eicar_a='X5O!P%@AP[4\PZX54(P^)7CC)7}$'
    eicar_b='EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
    eicar_hex=$(printf '%s%s' "$eicar_a" "$eicar_b" | od -An -tx1 | tr -d ' \n')
    printf 'Ventanilla.Demo.EICAR:0:*:%s\n' "$eicar_hex" >"$clamav_dir/db/demo.ndb"
    cat >"$clamav_dir/clamd.conf" <<CLAMD
LocalSocket $clamav_dir/clamd.sock
DatabaseDirectory $clamav_dir/db
LogFile $clamav_dir/clamd.log
Foreground yes
CLAMD
    export CLAMAV_URL="unix://$clamav_dir/clamd.sock"
    scanning="ClamAV with demo signatures (the EICAR test string) on $CLAMAV_URL"
  else
    scanning="OFF: clamd is missing (make setup installs clamav-daemon); uploads are not scanned"
  fi
else
  scanning="ClamAV at CLAMAV_URL=$CLAMAV_URL"
fi

# Children and their shared stop (Ctrl-C, TERM, exit, or one of them ending).
# shellcheck source=scripts/supervise.sh
. "$root/scripts/supervise.sh"
set -m
if $start_clamd; then
  # First: the demo data below is uploaded through the same scan as every upload.
  # clamd logs to var/clamav/clamd.log; in the foreground it would repeat it all here.
  rm -f "$clamav_dir/clamd.sock"  # a socket left by a killed run would look ready
  start "virus scanner" bash -c 'exec "$0" --config-file="$1" >/dev/null' "$clamd_bin" "$clamav_dir/clamd.conf"
  for _ in $(seq 1 100); do
    [ -S "$clamav_dir/clamd.sock" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  [ -S "$clamav_dir/clamd.sock" ] || die "clamd did not start (see $clamav_dir/clamd.log)."
fi
say "migrating the database ($database)"
manage migrate --noinput
say "loading the demo data"
manage load_demo
if $start_mail_sink; then
  start "mail sink" manage mail_sink --host "$HOST" --port "$MAIL_PORT" --dir "$root/var/mail"
fi
start "task worker" manage run_worker --queue-name default --no-reload
start "checks worker" manage run_worker --queue-name checks --no-reload
start "scheduler" manage run_scheduler
start "web server" manage runserver "$HOST:$PORT" --noreload
set +m

# Wait for the web server to answer (it runs Django's checks first).
wait_for_web "$PORT"

cat <<BANNER

========================================================================
 Ventanilla is running. Ctrl-C stops everything.

   Citizens:     $SITE_URL/
   Back office:  $SITE_URL/gestion/
   Staff logins (demo; load_demo printed them above too):
                 analista   / $DEMO_PASSWORD   (analyst)
                 supervisor / $DEMO_PASSWORD   (supervisor)
                 auditor, administrador: the same password (auditor; staff accounts and calendar)
                 then the 6-digit code of the DEMO authenticator key
                 IESS VENT ANIL LADE MOIE SSVE NTAN ILLA (add it to an app, or:
                 oathtool --totp -b IESSVENTANILLADEMOIESSVENTANILLA)
   API token:    uv run python manage.py api_token analista
   Emails:       $mail_where
   Virus scan:   $scanning
   Database:     $database
========================================================================

BANNER

# Run until one of the processes stops (or Ctrl-C), then stop the others.
run_until_one_stops
