#!/usr/bin/env bash
# b228aba on the H200 again: (1) LLaMA-7B F16 GGUF without a vocabulary on CUDA (the old segfault?),
# (2) flash attention off/on, (3) ncu per-kernel times of one pp512 pass + 2 decode tokens, F16 and Q4_0.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:?}; BUDGET=${BUDGET:-500}; T0=$(date +%s)
R=/tmp/res2; mkdir -p $R
pack() { tar czf "$OUT/results2.tgz" -C $R . ; cp $R/progress.txt "$OUT/" 2>/dev/null; }
el() { echo $(( $(date +%s) - T0 )); }
log() { echo "[$(date -u +%T) +$(el)s] $*" | tee -a "$R/progress.txt"; }
left() { echo $(( BUDGET - $(el) )); }
B=/tmp/oldbuild/bin; M=/tmp/models; mkdir -p $M
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,utilization.gpu,temperature.gpu --format=csv,noheader -lms 100 > "$R/smi-log.csv" 2>&1 &
SMI=$!; GEN=
trap 'kill $SMI 2>/dev/null; [ -n "$GEN" ] && { pkill -P $GEN; kill $GEN; } 2>/dev/null; pack' EXIT
rm -rf /tmp/oldsrc && mkdir -p /tmp/oldsrc && tar xzf "$here/src.tgz" -C /tmp/oldsrc
G=/tmp/oldsrc/gguf-py
( python3 "$here/mkgguf.py" $G llama7b $M/7b-f16.gguf > /dev/null && log "wrote 7b f16"
  python3 "$here/mkgguf.py" $G llama7b $M/7b-nv.gguf --no-vocab > /dev/null && log "wrote 7b no_vocab" ) & GEN=$!
cmake -S /tmp/oldsrc -B /tmp/oldbuild -DLLAMA_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF > "$R/cmake.log" 2>&1 || { tail -30 "$R/cmake.log"; exit 1; }
cmake --build /tmp/oldbuild -j"$(nproc)" --target llama-bench quantize > "$R/build.log" 2>&1 || { tail -40 "$R/build.log"; exit 1; }
log "built"; wait $GEN; GEN=
$B/quantize $M/7b-f16.gguf $M/7b-q4_0.gguf Q4_0 16 > "$R/quantize.log" 2>&1; log "quantized q4_0 rc=$?"
timeout 90 $B/llama-bench -m $M/7b-nv.gguf -ngl 99 -p 512 -n 0 -pg 0,0 -r 1 > "$R/novocab-7b-ngl99.txt" 2>&1
log "7b no_vocab -ngl 99: rc=$? (139 = SIGSEGV)"; tail -3 "$R/novocab-7b-ngl99.txt"
rm -f $M/7b-nv.gguf
$B/llama-bench -m $M/7b-f16.gguf -ngl 99 -t 4 -fa 0,1 -p 512,2048 -n 128 -r 5 -pg 0,0 -o json > "$R/7b-f16-fa.json" 2> "$R/7b-f16-fa.err"
log "fa 0,1 f16 rc=$?"
$B/llama-bench -m $M/7b-q4_0.gguf -ngl 99 -t 4 -fa 1 -p 512,2048 -n 128 -r 5 -pg 0,0 -o json > "$R/7b-q4_0-fa1.json" 2> "$R/7b-q4_0-fa1.err"
log "fa 1 q4_0 rc=$?"
python3 - $R/7b-f16-fa.json $R/7b-q4_0-fa1.json <<'PY'
import json, sys
for f in sys.argv[1:]:
    for r in json.load(open(f)):
        print("  ", r["model_type"], "fa", r["flash_attn"], r["n_prompt"], r["n_gen"], round(r["avg_ts"], 1), round(r["stddev_ts"], 1))
PY
pack
for m in f16 q4_0; do
  [ $(left) -lt 60 ] && { log "no time for ncu $m"; break; }
  t=$(( $(left) - 20 )); [ $t -gt 170 ] && t=170
  timeout $t ncu --clock-control none --cache-control none --metrics gpu__time_duration.sum --csv --launch-count 3200 \
    $B/llama-bench -m $M/7b-$m.gguf -ngl 99 -t 4 -p 512 -n 2 -pg 0,0 -r 1 > "$R/ncu-7b-$m.csv" 2> "$R/ncu-7b-$m.err"
  log "ncu $m rc=$? lines=$(wc -l < $R/ncu-7b-$m.csv)"; pack
done
log "all done"
