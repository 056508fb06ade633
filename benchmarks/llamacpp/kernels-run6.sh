#!/usr/bin/env bash
# Run 6 (issue 12, helper lcpp-small): build ggml alone (as kernels-rest.sh) and time kernels-run6.cases with
# at least 8 weight copies a graph, each case in its own process; then the graph's own launch-and-synchronize cost:
# the same small matmul (R1-Distill-Qwen-7B k/v, Q8_0; the MoE-16B up experts, Q4_K) with exactly 1 and 64 copies.
# usage (GPU machine; LLAMA_SRC = llama.cpp-src.tgz from make-source.sh):
#   LLAMA_SRC=... bash kernels-run6.sh     results in $OUT/kernels6.jsonl, log in $OUT/kernels6.txt
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t=$(date +%s)
nvidia-smi > "$OUT/env6.txt" 2>&1
. "$here/build-ggml.sh"
build_ggml "$LLAMA_SRC" "$OUT/kernels6.txt" || exit 1
one() {  # reps ns case...
  local reps=$1 ns=$2; shift 2
  echo "$*" > /tmp/one.cases
  timeout 60 /tmp/mmbench /tmp/one.cases "$ns" 0.05 "$reps" >> "$OUT/kernels6.jsonl" 2>> /tmp/k6.log
  echo "$* reps=$reps rc=$? at $(( $(date +%s) - t )) s" >> "$OUT/kernels6.txt"
}
for reps in -1 -64; do one "$reps" 1,2,8,9,16,32 q7-kv q8_0 512 3584 0 0 0; done
for reps in -1 -8; do one "$reps" 1,2,8,9,16,32 moe-up q4_K 1408 2048 64 6 1; done
grep -v '^#' "$here/kernels-run6.cases" | while read -r l; do
  [ -n "$l" ] && one 8 1,2,3,4,6,8,9,12,16,24,32 $l
done
grep -v "warmup" /tmp/k6.log | tail -5
cat "$OUT/kernels6.txt"
