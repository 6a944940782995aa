# Sourced by scripts/run.sh and scripts/serve.sh: start processes and stop them together.
# `start NAME CMD...` runs CMD in the background; with `set -m` (the caller's) each child
# gets its own process group, so that stopping one stops the `uv run` wrapper and the
# Python process under it together. On Ctrl-C, TERM or exit, every child gets TERM, then
# KILL after 10 s. Needs the caller's `say`.
pids=()
names=()
stopping=false
stop_all() {
  $stopping && return
  stopping=true
  trap - INT TERM
  local pid i
  [ "${#pids[@]}" -gt 0 ] || return 0
  say "stopping..."
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for i in $(seq 1 50); do
    local alive=false
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=true; done
    $alive || break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  say "stopped."
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

start() {
  local name=$1
  shift
  "$@" </dev/null &
  pids+=("$!")
  names+=("$name")
}
