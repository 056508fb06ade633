#!/usr/bin/env bash
# run 10 (helper lcpp-16bit): build llama.cpp (pipeline.sh's cmake flags), write R1-Distill-Qwen-7B F16 and
# R1-Distill-Llama-8B F16 GGUFs meanwhile (measure.make_gguf), then: batched-bench qwen-7b F16 at NPL;
# mmbench k16.cases (each case its own process); llama-quantize llama-8b F16 -> BF16 beside it; batched-bench BF16.
# usage: bash .devcarry-16/go16.sh SECONDS      (results under $OUT)
set -uo pipefail
T0=$(date +%s); DL=$((T0 + $1)); C=$(cd "$(dirname "$0")" && pwd); B=$(pwd)/benchmarks/llamacpp
R=$OUT; export PYTHONUNBUFFERED=1 RUN=10
NPL=16,20,24,32,40,48,64,96,128
say() { echo "[$(( $(date +%s) - T0 ))s] $*" | tee -a $R/progress.txt; }
{ nvidia-smi; nproc; free -g; df -h /tmp; } > $R/env.txt 2>&1
rm -rf /tmp/lc /tmp/lcg && mkdir -p /tmp/lc /tmp/lcg && tar xzf $C/llama.cpp-src.tgz -C /tmp/lc
( cmake -S /tmp/lc -B /tmp/lcbuild -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF -DCMAKE_BUILD_TYPE=Release > /tmp/cmake.log 2>&1 && \
  cmake --build /tmp/lcbuild -j"$(nproc)" --target llama-batched-bench llama-quantize > /tmp/build.log 2>&1 \
  && touch /tmp/build.ok || { tail -40 /tmp/build.log > $R/build-fail.txt; touch /tmp/build.fail; } ) &
cd $B && python3 - <<'PY' >> $R/progress.txt 2>&1
import measure, time
from pathlib import Path
for n in ("r1-distill-qwen-7b", "r1-distill-llama-8b"):
    t = time.time(); measure.make_gguf(n, "f16", Path(f"/tmp/lcg/{n}-f16.gguf")); print(n, "f16 gguf", round(time.time() - t), "s")
PY
cd - >/dev/null
while [ ! -e /tmp/build.ok ] && [ ! -e /tmp/build.fail ]; do sleep 2; done
say "build done ok=$([ -e /tmp/build.ok ] && echo 1 || echo 0)"; [ -e /tmp/build.ok ] || exit 1
batched() {  # name quant path
  local left=$(( DL - $(date +%s) - 5 )); [ $left -gt 20 ] || { say "skip batched $1 $2"; return; }
  timeout $left /tmp/lcbuild/bin/llama-batched-bench -m $3 -ngl 99 -fa on -c 83968 -b 2048 -ub 512 -npp 512 -ntg 128 \
    -npl $NPL --output-format jsonl > /tmp/bb-$1-$2.out 2> /tmp/bb-$1-$2.err
  say "batched $1 $2 rc=$?"
  python3 - "$1" "$2" "$3" <<'PY' >> $R/lcpp-results.jsonl
import json, os, subprocess, sys
sys.path.insert(0, os.environ.get("BDIR", "benchmarks/llamacpp")); import measure
from pathlib import Path
name, q, p = sys.argv[1:4]; p = Path(p)
smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"], capture_output=True, text=True).stdout.strip()
o = open(f"/tmp/bb-{name}-{q}.out").read(); e = open(f"/tmp/bb-{name}-{q}.err").read()
row = dict(model=name, quant=q, gpu=smi, gguf_bytes=p.stat().st_size, tensor_classes=measure.tensor_classes(p), run=10, bench=[],
           batched=[json.loads(x) for x in o.splitlines() if x.startswith("{")], buffers_ctx41984=measure.buffers(e))
print(json.dumps(row))
PY
  tail -c 3000 /tmp/bb-$1-$2.err >> $R/lcpp-log.txt
}
export BDIR=$B
batched r1-distill-qwen-7b f16 /tmp/lcg/r1-distill-qwen-7b-f16.gguf
rm -f /tmp/lcg/r1-distill-qwen-7b-f16.gguf
( /tmp/lcbuild/bin/llama-quantize /tmp/lcg/r1-distill-llama-8b-f16.gguf /tmp/lcg/r1-distill-llama-8b-bf16.gguf BF16 12 > /tmp/q.log 2>&1; say "quantize rc=$?"; touch /tmp/q.done ) &
lib=$(dirname "$(find /tmp/lcbuild -name 'libggml-base.so' | head -1)")
g++ -O2 -std=c++17 $B/mmbench.cpp -I/tmp/lc/ggml/include -L"$lib" -lggml -lggml-base -Wl,-rpath,"$lib" -o /tmp/mmbench 2> $R/kernels-log.txt
while read -r l; do
  [ $(( DL - $(date +%s) )) -gt 75 ] || { say "kernels stopped before: $l"; break; }
  echo "$l" > /tmp/one.cases
  timeout 40 /tmp/mmbench /tmp/one.cases 1,2,16,17,20,24,32,40,48,64,96,128 >> $R/kernels.jsonl 2>> /tmp/k.log
  echo "$l rc=$? at $(( $(date +%s) - T0 )) s" >> $R/kernels-log.txt
done < $C/k16.cases
while [ ! -e /tmp/q.done ]; do sleep 1; done
batched r1-distill-llama-8b bf16 /tmp/lcg/r1-distill-llama-8b-bf16.gguf
say done
