#!/usr/bin/env bash
# Installs what `npm run test:bindings` runs: the bindings freshly built into dist/ (`npm run package`),
# each installed the way a user installs a released one, and the twin apps built against them.
#   TypeScript  the npm tarball (dist/js) with aws-cdk-lib from npm, once per aws-cdk-lib version a twin uses
#   Python      the wheel (dist/python) into a virtual environment, with aws-cdk-lib, constructs and jsii
#               from PyPI (python/requirements.txt)
#   Java        dist/java as a file repository of a Maven project (java/pom.xml), the rest from Maven Central
#   Go          a `replace` to dist/go (go/go.mod), the rest from the Go module proxy (go.sum)
# Every version is pinned in those files. Downloads are cached (.engines/, pip's cache, ~/.m2, ~/go),
# so a second run only rebuilds what changed: dist/ when the assembly, the handler bundles or the
# packaging changed, the twins when dist/ did.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
engines=$root/.engines/bindings
mkdir -p "$engines"

# The aws-cdk-lib versions the twins use: Python and Java pin the newest release that PyPI and
# Maven Central both have (python/requirements.txt; the test checks java/pom.xml says the same); Go
# takes the version the binding's go.mod requires (the one the package is built against), since Go
# selects the highest version any module requires.
PYTHON_JAVA_CDK=$(sed -n 's/^aws-cdk-lib==//p' test/bindings/python/requirements.txt)
GO_CDK=$(node -p 'require("./node_modules/aws-cdk-lib/package.json").version')
CONSTRUCTS=$(node -p 'require("./node_modules/constructs/package.json").version')
TYPES_NODE=$(node -p 'require("./node_modules/@types/node/package.json").version')

fingerprint() { cat "$@" | sha256sum | cut -d' ' -f1; }

step() { echo "[install] $*"; }

# 1. The library's build, then every package into dist/.
if [ -n "$(find lib lambda README.md -name '*.ts' ! -name '*.d.ts' -newer .jsii -o -name README.md -newer .jsii 2>/dev/null | head -1)" ] || [ ! -f lambda/dist/on-event/index.js ]; then
  step "npm run build (lib/, lambda/ or README.md changed since the last build)"
  npm run build --silent
fi
dist_inputs=$(fingerprint .jsii lambda/dist/on-event/index.js lambda/dist/rotation/index.js package.json .ci/package .ci/python-build-constraints.txt rosetta/*.ts-fixture)
if [ "$(cat dist/.fingerprint 2>/dev/null)" != "$dist_inputs" ]; then
  step "npm run package"
  npm run package --silent
  echo "$dist_inputs" > dist/.fingerprint
fi
dist_fingerprint=$(fingerprint dist/js/*.tgz dist/python/*.whl dist/java/io/github/cdk-lightsail/cdk-lightsail-bucket-access-key/*/*.jar dist/go/cdklightsailbucketaccesskey/*.go dist/go/cdklightsailbucketaccesskey/jsii/*.tgz)

fresh() { [ "$(cat "$engines/$1.fingerprint" 2>/dev/null)" = "$2" ]; }
done_with() { echo "$2" > "$engines/$1.fingerprint"; }

# 2. TypeScript: the tarball into an app folder, with the aws-cdk-lib version of the twins it is compared with.
tarball=$root/$(ls dist/js/*.tgz)
for cdk in "$PYTHON_JAVA_CDK" "$GO_CDK"; do
  folder=$engines/ts-$cdk
  state=$(fingerprint "$tarball" test/bindings/app.ts <(echo "$cdk $CONSTRUCTS $TYPES_NODE"))
  if ! fresh "ts-$cdk" "$state"; then
    step "TypeScript twin with aws-cdk-lib $cdk"
    rm -rf "$folder" && mkdir -p "$folder"
    echo '{ "name": "twin", "version": "1.0.0", "private": true }' > "$folder/package.json"
    (cd "$folder" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error \
      "$tarball" "aws-cdk-lib@$cdk" "constructs@$CONSTRUCTS" "@types/node@$TYPES_NODE")
    cp test/bindings/app.ts "$folder/app.ts"
    cat > "$folder/tsconfig.json" <<'JSON'
{ "compilerOptions": { "strict": true, "target": "es2022", "module": "commonjs", "skipLibCheck": true, "types": ["node"], "noEmitOnError": true }, "files": ["app.ts"] }
JSON
    "$root/node_modules/.bin/tsc" -p "$folder"
    done_with "ts-$cdk" "$state"
  fi
done

# 3. Python: a virtual environment with the pinned requirements, then the wheel as a user installs it.
venv=$engines/venv
state=$(fingerprint dist/python/*.whl test/bindings/python/requirements.txt)
if ! fresh python "$state"; then
  step "Python: virtual environment with the wheel"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r test/bindings/python/requirements.txt
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps dist/python/*.whl
  # The wheel's own requirements, met by the pinned versions (what a resolver would have checked).
  "$venv/bin/python" -m pip check
  done_with python "$state"
fi

# 4. Java: the twin compiled against dist/java. Maven caches a release version for good, so the
#    library's copy in the local repository goes first: the twin must get this build.
state=$(fingerprint <(echo "$dist_fingerprint") test/bindings/java/pom.xml test/bindings/java/src/main/java/twin/App.java)
if ! fresh java "$state"; then
  step "Java: Maven project against dist/java"
  rm -rf "${MAVEN_LOCAL_REPOSITORY:-$HOME/.m2/repository}/io/github/cdk-lightsail"
  (cd test/bindings/java && mvn --batch-mode --quiet ${MAVEN_LOCAL_REPOSITORY:+-Dmaven.repo.local="$MAVEN_LOCAL_REPOSITORY"} \
    clean compile dependency:build-classpath -Dmdep.outputFile="$engines/java-classpath.txt")
  done_with java "$state"
fi

# 5. Go: the twin built against dist/go. -mod=readonly: go.mod and go.sum pin everything, and a
#    binding that needs other versions fails here instead of silently changing them.
state=$(fingerprint <(echo "$dist_fingerprint") test/bindings/go/go.mod test/bindings/go/go.sum test/bindings/go/main.go)
if ! fresh go "$state"; then
  step "Go: module against dist/go"
  (cd test/bindings/go && go build -mod=readonly -o "$engines/go-twin" .)
  done_with go "$state"
fi

echo "[install] done: aws-cdk-lib $PYTHON_JAVA_CDK (Python, Java) and $GO_CDK (Go), constructs $CONSTRUCTS"
