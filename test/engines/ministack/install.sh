#!/usr/bin/env bash
# Installs ministack (PyPI) and its dependencies, pinned in requirements.txt, into .engines/venv-ministack.
# Idempotent: a venv installed from the same requirements.txt is left as it is.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
requirements="$root/test/engines/ministack/requirements.txt"
venv="$root/.engines/venv-ministack"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [[ -x "$venv/bin/ministack" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  echo "ministack: $venv is up to date"
  exit 0
fi

python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "ministack needs Python 3.10 or newer")'
rm -rf "$venv"
mkdir -p "$root/.engines"
# Debian's python3 has no ensurepip without python3-venv: then a venv without pip, filled by the
# system's pip (`--python`, pip 22.3 or newer).
if python3 -m venv "$venv" 2>/dev/null; then
  pip=("$venv/bin/pip")
else
  rm -rf "$venv"
  python3 -m venv --without-pip "$venv"
  pip=(python3 -m pip --python "$venv/bin/python")
fi
"${pip[@]}" install --quiet --disable-pip-version-check --no-cache-dir -r "$requirements"
"${pip[@]}" check
# Every installed package is one requirements.txt pins, at that version: nothing resolved on the side.
if ! diff <("${pip[@]}" freeze | sort -f) <(grep -v '^#' "$requirements" | sort -f); then
  echo "ministack: the venv differs from $requirements (lines above); pin the new versions there" >&2
  exit 1
fi
echo "$wanted" > "$stamp"
echo "ministack: installed $("${pip[@]}" show ministack | sed -n 's/^Version: //p') into $venv"
