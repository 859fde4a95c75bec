#!/usr/bin/env bash
# Installs moto's server (requirements.txt: moto[server] 5.2.5 and its dependencies, all pinned) into
# a Python venv, .engines/venv-moto. Idempotent: skipped when the venv was made from this very
# requirements.txt. Python: $PYTHON, else python3 (3.9 or newer, with venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../../../.engines/venv-moto"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ -x "$venv/bin/moto_server" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
  echo "moto: up to date ($venv)"
  exit 0
fi
rm -rf "$venv"
"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
echo "$wanted" > "$stamp"
echo "moto: installed $("$venv/bin/python" -c 'import moto; print(moto.__version__)') ($venv)"
