#!/usr/bin/env bash
# Installs every engine that `npm run test:engines` runs: each test/engines/<engine>/install.sh, in
# name order. Each script pins its versions, installs into .engines/ (gitignored) and is idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for script in "$here"/*/install.sh; do
  echo "== $(basename "$(dirname "$script")"): $script"
  bash "$script"
done
