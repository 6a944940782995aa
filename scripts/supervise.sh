# Sourced by scripts/run.sh and scripts/serve.sh: start processes and stop them together.
# `start NAME CMD...` runs CMD in the background; with `set -m` (the caller's) each child
# gets its own process group, so that stopping one stops the `uv run` wrapper and the
# Python process under it together. On Ctrl-C, TERM or exit, every child gets TERM, then
# KILL after 10 s. Needs the caller's `say`, `die` and `listening PORT`.
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

# Wait (up to 60 s) until the last process started, the web server, listens on PORT;
# stop everything if it ends first or never listens.
wait_for_web() {
  local port=$1 web_pid=${pids[-1]}
  for _ in $(seq 1 120); do
    listening "$port" && return 0
    kill -0 "$web_pid" 2>/dev/null || break
    sleep 0.5
  done
  listening "$port" || die "the web server did not start on $HOST:$port (see the messages above)."
}

# Run until one of the processes stops (or Ctrl-C), then stop the others. None of them is
# meant to stop on its own: that is a failure, even with exit 0.
run_until_one_stops() {
  local status i
  set +e
  wait -n "${pids[@]}"
  status=$?
  set -e
  $stopping && return 0
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      say "the ${names[$i]} stopped (exit $status): stopping the others."
    fi
  done
  [ "$status" -ne 0 ] || status=1
  exit "$status"
}
