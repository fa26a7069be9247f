#!/usr/bin/env bash
# Runs every benchmark in BENCHMARKS.md, one after another, and keeps what each printed in docs/benchmarks/*.txt
# (the files BENCHMARKS.md quotes). Run it on a quiet machine: every row compares graft with a peer in the same
# run, but other load on a 2-core machine still moves both numbers.
#
#   docs/benchmarks/run_all.sh [NAME...]  (about 5 minutes here; needs /usr/bin/python3 with python3-torch for
#                                          the PyTorch peers; the graft launcher builds the jar first. NAMEs pick
#                                          some of the benchmarks below: import export inference finetune ...)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out=docs/benchmarks
./graft --version > /dev/null
models=(models/mnist04_cnn_torch.onnx tests-resources/models/*/model.onnx)

wanted=("$@")
run() {
  local name="$1"; shift
  if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " == *" $name "* ]]; then return; fi
  echo "== $name: ${GRAFT_JAVA_OPTS:+GRAFT_JAVA_OPTS=\"$GRAFT_JAVA_OPTS\" }./graft $*"
  {
    echo "# ${GRAFT_JAVA_OPTS:+GRAFT_JAVA_OPTS=\"$GRAFT_JAVA_OPTS\" }./graft $*"
    echo "# $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    ./graft "$@" 2>&1 | grep -v -e '^WARN' -e 'Versions of org.bytedeco' -e '^I0000'
  } > "$out/$name.txt"
  cat "$out/$name.txt"
}

run import bench import "${models[@]}"
run export bench export "${models[@]}"
run inference bench run "${models[@]}"
run finetune bench finetune --steps 200
run finetune-profile bench finetune --profile --steps 200
run memory bench memory
# The same with JavaCPP's physical memory capped: ND4J's freed arrays wait for the garbage collector, which a cap
# makes run sooner (less memory, slower steps).
for cap in 3g 1500m; do
  GRAFT_JAVA_OPTS="-Xmx8g -Dorg.bytedeco.javacpp.maxphysicalbytes=$cap" run "memory-cap-$cap" bench memory
  GRAFT_JAVA_OPTS="-Xmx8g -Dorg.bytedeco.javacpp.maxphysicalbytes=$cap" run "finetune-cap-$cap" bench finetune --steps 200 --no-torch
done
