#!/usr/bin/env bash
# Run uv, wherever it is: on PATH, or where `python3 -m pip install uv` put it
# (that folder is often not on PATH). `scripts/uv.sh --path` prints its path.
# scripts/setup.sh installs uv when this finds none.
set -euo pipefail

find_uv() {
  local candidate dir
  if candidate=$(command -v uv 2>/dev/null) && "$candidate" --version >/dev/null 2>&1; then
    printf '%s\n' "$candidate"
    return 0
  fi
  for dir in \
    "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)" \
    "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts", "posix_user"))' 2>/dev/null || true)" \
    "$HOME/.local/bin" "$HOME/.cargo/bin"; do
    candidate="$dir/uv"
    if [ -n "$dir" ] && [ -x "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

if ! uv=$(find_uv); then
  echo "uv is not installed: run 'make setup' (or scripts/setup.sh) first." >&2
  exit 127
fi
if [ "${1:-}" = "--path" ]; then
  printf '%s\n' "$uv"
  exit 0
fi
exec "$uv" "$@"
