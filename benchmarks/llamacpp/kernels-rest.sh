#!/usr/bin/env bash
# Run 5, second call: build ggml alone (CUDA, sm_90, no flash-attention kernels: mmbench needs none) and time the
# kernels.cases the first call did not reach, each case in its own process (an F16 crash loses only that case).
# usage (on the GPU machine, from the folder holding this script, mmbench.cpp, kernels.cases, llama.cpp-src.tgz):
#   bash kernels-rest.sh      results in $OUT/kernels2.jsonl, per-case exit codes in $OUT/kernels2.txt
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t=$(date +%s)
mkdir -p /tmp/lc && tar xzf "$here/llama.cpp-src.tgz" -C /tmp/lc
cmake -S /tmp/lc -B /tmp/b -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_CUDA_FA=OFF -DLLAMA_BUILD_APP=OFF \
  -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_OPENSSL=OFF -DCMAKE_BUILD_TYPE=Release > "$OUT/cmake.log" 2>&1 || { tail -20 "$OUT/cmake.log"; exit 1; }
cmake --build /tmp/b -j"$(nproc)" --target ggml > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
echo "ggml built in $(( $(date +%s) - t )) s" | tee "$OUT/kernels2.txt"
lib=$(dirname "$(find /tmp/b -name 'libggml-base.so' | head -1)")
g++ -O2 -std=c++17 "$here/mmbench.cpp" -I/tmp/lc/ggml/include -L"$lib" -lggml -lggml-base -Wl,-rpath,"$lib" \
  -o /tmp/mmbench || exit 1
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
