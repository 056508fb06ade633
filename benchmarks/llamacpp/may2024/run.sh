#!/usr/bin/env bash
# llama.cpp b228aba (2024-05-12) on the lent H200: build, smoke test (tiny GGUF with / without vocab), then
# llama-bench -p 512,2048 -n 128 -r 5 of LLaMA-7B / Llama-3-8B shapes in F16, Q4_0, Q4_K_M, Q8_0.
# A producer (background) writes and quantizes the GGUFs; the benchmarks run as each file is ready.
# Idempotent: a second call on the same warm machine skips what is done. Results are packed into $OUT/results.tgz
# (the device returns at most 8 files). usage: copy this folder with src.tgz (make-source.sh) into an ignored folder
# of the checkout; on the GPU machine: BUDGET=540 bash THAT_FOLDER/run.sh (2026-12-03: 327 s on an H200, build
# 116 s). benchmarks/data/llamacpp-h200-may2024/README.md says what it measured.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:?}; BUDGET=${BUDGET:-540}; SHAPES=${SHAPES:-"llama7b llama3-8b"}; T0=$(date +%s)
R=/tmp/res; mkdir -p $R  # raw results; packed into $OUT/results.tgz (at most 8 files come back)
pack() { tar czf "$OUT/results.tgz" -C $R . ; cp $R/progress.txt "$OUT/" 2>/dev/null; }
el() { echo $(( $(date +%s) - T0 )); }
log() { echo "[$(date -u +%T) +$(el)s] $*" | tee -a "$R/progress.txt"; }
B=/tmp/oldbuild/bin; M=/tmp/models; D=/tmp/done; mkdir -p $M $D
{ nvidia-smi; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem,power.limit,power.max_limit --format=csv
  nvcc --version; cmake --version | head -1; nproc; free -g; df -h /tmp; command -v gdb; } > "$R/env.txt" 2>&1
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,utilization.gpu,temperature.gpu --format=csv,noheader -lms 50 > "$R/smi-log.csv" 2>&1 &
SMI=$!; PROD=
trap 'kill $SMI 2>/dev/null; [ -n "$PROD" ] && { pkill -P $PROD; kill $PROD; } 2>/dev/null; pack' EXIT
if [ ! -x $B/llama-bench ]; then
  rm -rf /tmp/oldsrc && mkdir -p /tmp/oldsrc && tar xzf "$here/src.tgz" -C /tmp/oldsrc
  cmake -S /tmp/oldsrc -B /tmp/oldbuild -DLLAMA_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF > "$R/cmake.log" 2>&1 || { tail -30 "$R/cmake.log"; exit 1; }
  cmake --build /tmp/oldbuild -j"$(nproc)" --target llama-bench quantize > "$R/build.log" 2>&1 || { tail -40 "$R/build.log"; exit 1; }
  log "built"
fi
G=/tmp/oldsrc/gguf-py
if [ ! -f $D/smoke ]; then
  python3 "$here/mkgguf.py" $G tiny $M/tiny-v.gguf > /dev/null && python3 "$here/mkgguf.py" $G tiny $M/tiny-nv.gguf --no-vocab > /dev/null
  timeout 30 $B/llama-bench -m $M/tiny-v.gguf -ngl 99 -p 64 -n 16 -pg 0,0 -r 1 > "$R/smoke-tiny-vocab.txt" 2>&1; rc=$?
  log "smoke tiny with vocab, -ngl 99: rc=$rc"; tail -4 "$R/smoke-tiny-vocab.txt"
  timeout 30 $B/llama-bench -m $M/tiny-nv.gguf -ngl 99 -p 64 -n 16 -pg 0,0 -r 1 > "$R/smoke-tiny-novocab.txt" 2>&1
  log "smoke tiny no_vocab, -ngl 99: rc=$?"
  if command -v gdb > /dev/null; then
    timeout 45 gdb -batch -ex run -ex bt --args $B/llama-bench -m $M/tiny-nv.gguf -ngl 99 -p 64 -n 0 -r 1 > "$R/gdb-tiny-novocab.txt" 2>&1
    grep -A12 "SIGSEGV" "$R/gdb-tiny-novocab.txt" | head -16
  fi
  [ $rc = 0 ] || { log "vocab smoke failed"; timeout 30 $B/llama-bench -m $M/tiny-v.gguf -ngl 0 -p 64 -n 16 -pg 0,0 -r 1 > "$R/smoke-tiny-vocab-ngl0.txt" 2>&1; log "ngl0 rc=$?"; exit 1; }
  touch $D/smoke
fi
# producer: shape:format in order; f16 written by mkgguf, the rest quantized from it (12 threads)
produce() {
  for s in $SHAPES; do
    f=$M/$s-f16.gguf
    if [ ! -f $D/$s-f16.ready ]; then python3 "$here/mkgguf.py" $G $s $f > "$R/mkgguf-$s.log" 2>&1 && touch $D/$s-f16.ready; log "wrote $s f16"; fi
    for q in Q4_0 Q4_K_M Q8_0; do
      l=$(echo $q | tr A-Z a-z); [ -f $D/$s-$l.ready ] && continue
      $B/quantize $f $M/$s-$l.gguf $q 12 > "$R/quantize-$s-$l.log" 2>&1 && touch $D/$s-$l.ready; log "quantized $s $q"
    done
    while [ ! -f $D/$s-f16.benched ]; do sleep 1; done; rm -f $f
  done
}
produce & PROD=$!
for s in $SHAPES; do
  for l in f16 q4_0 q4_k_m q8_0; do
    n=$s-$l; [ -f $D/$n.benched ] && continue
    while [ ! -f $D/$n.ready ]; do sleep 1; [ $(el) -gt $BUDGET ] && { log "out of budget waiting for $n"; exit 0; }; done
    [ $(el) -gt $((BUDGET - 40)) ] && { log "out of budget before $n"; exit 0; }
    log "bench $n start"
    $B/llama-bench -m $M/$n.gguf -ngl 99 -t 4 -p 512,2048 -n 128 -r 5 -pg 0,0 -o json > "$R/$n.json" 2> "$R/$n.err"; rc=$?
    log "bench $n end rc=$rc"
    if [ $rc != 0 ]; then tail -15 "$R/$n.err"
      command -v gdb > /dev/null && timeout 120 gdb -batch -ex run -ex bt --args $B/llama-bench -m $M/$n.gguf -ngl 99 -p 512 -n 0 -r 1 > "$R/gdb-$n.txt" 2>&1
      exit 1; fi
    python3 - "$R/$n.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    print("  ", r["model_type"], r["model_size"], r["n_prompt"], r["n_gen"], round(r["avg_ts"], 1), round(r["stddev_ts"], 1))
PY
    if [ $n = llama7b-f16 ]; then  # sustained F16 prompt GEMMs: clocks and power in smi-log.csv
      log "sustain $n start"; $B/llama-bench -m $M/$n.gguf -ngl 99 -t 4 -p 2048 -n 0 -pg 0,0 -r 40 -o json > "$R/$n-sustain.json" 2>/dev/null; log "sustain $n end"
    fi
    touch $D/$n.benched; pack; [ $l = f16 ] || rm -f $M/$n.gguf
  done
done
wait $PROD; log "all done"
