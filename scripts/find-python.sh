#!/usr/bin/env bash
# Print the path of a real Python >= 3.12 and < 3.14 (3.12 preferred).
#
# Candidates, in order: python3.12, python3.13 and python3 on PATH, then
# ${PYENV_ROOT:-$HOME/.pyenv}/versions/3.12*/ and 3.13*, then /usr/bin.
# Each one is run, because pyenv installs shims for versions that it then
# refuses to run. A 3.12 anywhere wins over a 3.13.
# Exits 1 with a message on stderr when none works.
set -u

pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
candidates=()
for name in python3.12 python3.13 python3; do
  path=$(command -v "$name" 2>/dev/null) && candidates+=("$path")
done
for candidate in "$pyenv_root"/versions/3.12*/bin/python3.12 \
  "$pyenv_root"/versions/3.13*/bin/python3.13 \
  /usr/bin/python3.12 /usr/bin/python3.13; do
  [ -x "$candidate" ] && candidates+=("$candidate")
done

# "3.12 /real/path/python3.12" for each candidate that runs at all.
declare -A version_of=()
for candidate in "${candidates[@]}"; do
  [ -n "${version_of[$candidate]+x}" ] && continue
  version_of[$candidate]=$("$candidate" -c \
    'import sys; print("%d.%d %s" % (sys.version_info[0], sys.version_info[1], sys.executable))' \
    2>/dev/null | tail -n 1) || version_of[$candidate]="does not run"
  [ -n "${version_of[$candidate]}" ] || version_of[$candidate]="does not run"
done

for wanted in 3.12 3.13; do
  for candidate in "${candidates[@]}"; do
    read -r version executable <<<"${version_of[$candidate]}"
    if [ "$version" = "$wanted" ] && [ -x "$executable" ]; then
      printf '%s\n' "$executable"
      exit 0
    fi
  done
done

{
  echo "find-python: Ventanilla needs Python 3.12 or 3.13 (3.12 preferred), and none was found."
  echo "Looked on PATH for python3.12, python3.13 and python3, in $pyenv_root/versions/3.12*"
  echo "and 3.13*, and for /usr/bin/python3.12 and /usr/bin/python3.13. Found:"
  if [ ${#candidates[@]} -eq 0 ]; then
    echo "  nothing"
  else
    for candidate in "${!version_of[@]}"; do
      echo "  $candidate: ${version_of[$candidate]%% *}"
    done
  fi
  echo "Install Python 3.12 (for example 'pyenv install 3.12', or your system's"
  echo "python3.12 package) and run this again."
} >&2
exit 1
