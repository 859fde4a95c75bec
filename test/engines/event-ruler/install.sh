#!/usr/bin/env bash
# Builds the event-ruler judge (test/engines/event-ruler/pom.xml, versions pinned there) into
# .engines/event-ruler: classes/ and classpath.txt. Idempotent: skipped when the build is newer than
# the pom and the sources. Dependencies come from Maven Central into the local repository (~/.m2).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../../.engines/event-ruler"
stamp="$out/classpath.txt"
if [ -f "$stamp" ] && [ -z "$(find "$here/pom.xml" "$here/src" -newer "$stamp" -print -quit)" ]; then
  echo "event-ruler judge: up to date ($out)"
  exit 0
fi
mvn -B -q -f "$here/pom.xml" compile
echo "event-ruler judge: built ($out)"
