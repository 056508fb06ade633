#!/usr/bin/env bash
# Run 5, second call: build ggml alone (CUDA, sm_90, no flash-attention kernels: mmbench needs none) and time the
# kernels.cases the first call did not reach, each case in its own process (an F16 crash loses only that case).
# usage (on the GPU machine, from the folder holding this script, build-ggml.sh, mmbench.cpp, kernels.cases,
# llama.cpp-src.tgz):
#   bash kernels-rest.sh      results in $OUT/kernels2.jsonl, per-case exit codes in $OUT/kernels2.txt
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t=$(date +%s)
. "$here/build-ggml.sh"
build_ggml "$here/llama.cpp-src.tgz" "$OUT/kernels2.txt" || exit 1
for label in q7-kv q7-o moe-shared q32-gate; do
  grep "^$label " "$here/kernels.cases" | { [ "$label" = q7-o ] && grep -v "^q7-o f16" || cat; }
done > /tmp/rest.cases
while read -r l; do
  echo "$l" > /tmp/one.cases
  timeout 60 /tmp/mmbench /tmp/one.cases 1,2,4,8,9,16,24,32,48,64,96,128 >> "$OUT/kernels2.jsonl" 2>> /tmp/k2.log
  echo "$l rc=$? at $(( $(date +%s) - t )) s" >> "$OUT/kernels2.txt"
done < /tmp/rest.cases
grep -v "warmup" /tmp/k2.log | tail -5
cat "$OUT/kernels2.txt"
