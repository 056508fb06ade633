#!/usr/bin/env bash
# llama.cpp b228aba (2024-05-12, vendored by llama-cpp-python 0.2.74; CUDA graphs on, MMQ not default, no FA by
# default) on this GPU: tg128 / pp512 of random-weight LLaMA-7B and Llama-3-8B shapes, F16 and Q4_K_M.
# usage: SHAPES="llama7b llama3-8b" bash run.sh   (from the folder holding src.tgz, make-source.sh; sm_90 build:
# change CMAKE_CUDA_ARCHITECTURES for another GPU). Results: $OUT/<shape>-<format>.json (llama-bench -o json).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$here/out}; mkdir -p "$OUT"
shapes=${SHAPES:-"llama7b llama3-8b"}
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv | tee "$OUT/smi.txt"
if [ ! -x /tmp/oldbuild/bin/llama-bench ]; then
  rm -rf /tmp/oldsrc && mkdir -p /tmp/oldsrc && tar xzf "$here/src.tgz" -C /tmp/oldsrc
  t=$(date +%s)
  cmake -S /tmp/oldsrc -B /tmp/oldbuild -DLLAMA_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF > "$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
  cmake --build /tmp/oldbuild -j"$(nproc)" --target llama-bench quantize > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
  echo "built in $(( $(date +%s) - t )) s"
fi
[ -d /tmp/oldsrc/gguf-py ] || { mkdir -p /tmp/oldsrc && tar xzf "$here/src.tgz" -C /tmp/oldsrc; }
mkdir -p /tmp/models
for s in $shapes; do
  f=/tmp/models/$s-f16.gguf; q=/tmp/models/$s-q4_k_m.gguf
  [ -f "$f" ] || python3 "$here/mkgguf.py" /tmp/oldsrc/gguf-py "$s" "$f" || exit 1
  [ -f "$q" ] || /tmp/oldbuild/bin/quantize "$f" "$q" Q4_K_M > "$OUT/quantize-$s.log" 2>&1 || { tail -20 "$OUT/quantize-$s.log"; exit 1; }
  for m in "$f" "$q"; do
    /tmp/oldbuild/bin/llama-bench -m "$m" -ngl 99 -p 512 -n 128 -r 2 -o json > "$OUT/$(basename "$m" .gguf).json" 2> "$OUT/$(basename "$m" .gguf).err" \
      || tail -20 "$OUT/$(basename "$m" .gguf).err"
    python3 - "$OUT/$(basename "$m" .gguf).json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    print(r["model_type"], r["model_size"], r["n_prompt"], r["n_gen"], round(r["avg_ts"], 2), round(r["stddev_ts"], 2))
PY
  done
done
