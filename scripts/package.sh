#!/usr/bin/env bash
# Builds the package for every jsii target this machine's toolchains allow, into dist/, and says which
# targets built and why the others did not. Not part of `npm test` (it takes a minute); run `npm run package`.
#
#   dist/js       the npm tarball (jsii-pacmak)
#   dist/python   Python sources, and dist/python-dist the wheel when `python3 -m build` can run offline
#   dist/java     Java sources (pom.xml), and the jar when Maven can build offline
#   dist/dotnet   .NET sources, and the NuGet package when the dotnet SDK is installed
#   dist/go       Go module sources, built when the go toolchain is installed
set -uo pipefail
cd "$(dirname "$0")/.."

npm run build
rm -rf dist
built=()
skipped=()

# JavaScript: the tarball npm publishes. Must work everywhere.
npx jsii-pacmak --no-npmignore --targets js || exit 1
built+=("js: dist/js/*.jsii.tgz")

# Every other target's sources: generated without any toolchain.
npx jsii-pacmak --no-npmignore --code-only --targets python,java,dotnet,go || exit 1

# Python: jsii-pacmak's own build installs its pinned setuptools/build from PyPI into an isolated
# environment, which needs PyPI. Instead: a virtual environment with `build` and `wheel` from whatever
# index pip is configured with (this machine's local mirror), and a build without isolation.
python=dist/.python/bin/python
if python3 -m venv dist/.python >/tmp/package-python.log 2>&1 &&
  "$python" -m pip install --quiet build wheel setuptools >>/tmp/package-python.log 2>&1; then
  if "$python" -m build --no-isolation --skip-dependency-check --wheel --outdir dist/python-dist dist/python >>/tmp/package-python.log 2>&1; then
    built+=("python: $(ls dist/python-dist/*.whl)")
  else
    skipped+=("python: the wheel build failed (see /tmp/package-python.log)")
  fi
else
  skipped+=("python: sources only; could not install build/wheel into a virtual environment (see /tmp/package-python.log)")
fi

# Java: Maven needs the jsii runtime and aws-cdk-lib jars; offline it can only use ~/.m2.
if command -v mvn >/dev/null; then
  if (cd dist/java && mvn --offline --batch-mode --quiet package -DskipTests) >/tmp/package-java.log 2>&1; then
    built+=("java: $(ls dist/java/target/*.jar | head -1)")
  else
    skipped+=("java: sources only; Maven could not build offline (dependencies not in ~/.m2, see /tmp/package-java.log)")
  fi
else
  skipped+=("java: sources only; no mvn")
fi

# .NET and Go need their SDKs.
if command -v dotnet >/dev/null; then
  if npx jsii-pacmak --no-npmignore --targets dotnet >/tmp/package-dotnet.log 2>&1; then built+=("dotnet: dist/dotnet"); else skipped+=("dotnet: build failed (see /tmp/package-dotnet.log)"); fi
else
  skipped+=("dotnet: sources only; no dotnet SDK")
fi
if command -v go >/dev/null; then
  if npx jsii-pacmak --no-npmignore --targets go >/tmp/package-go.log 2>&1; then built+=("go: dist/go"); else skipped+=("go: build failed (see /tmp/package-go.log)"); fi
else
  skipped+=("go: sources only; no go toolchain")
fi

echo
echo "Built:"
printf '  %s\n' "${built[@]}"
echo "Not built:"
printf '  %s\n' "${skipped[@]}"
