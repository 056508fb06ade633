#!/usr/bin/env bash
# Run 7: build llama-bench and llama-batched-bench (CUDA, sm_90; pipeline.sh's cmake flags) in the background
# while measure_depth.py writes the first GGUF, then measure at long context. Results in /tmp/lcres.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
deadline=$1
R=/tmp/lcres
export PYTHONUNBUFFERED=1
rm -rf /tmp/lc && mkdir -p /tmp/lc && tar xzf "${SRC_TGZ:-$here/src/llama.cpp-src.tgz}" -C /tmp/lc
(
  if [ -x /tmp/lcbuild/bin/llama-bench ]; then touch /tmp/build.ok; exit 0; fi
  t=$(date +%s)
  cmake -S /tmp/lc -B /tmp/lcbuild -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF -DCMAKE_BUILD_TYPE=Release > "$R/cmake.log" 2>&1 || { touch /tmp/build.fail; exit 1; }
  cmake --build /tmp/lcbuild -j"$(nproc)" --target llama-bench llama-batched-bench \
    > "$R/build.log" 2>&1 || { touch /tmp/build.fail; exit 1; }
  echo "built in $(( $(date +%s) - t )) s" >> "$R/progress.txt"
  touch /tmp/build.ok
) &
{ nvidia-smi; nproc; free -g; df -h /tmp; python3 -c 'import torch; print(torch.__version__, torch.cuda.get_device_name())'; } > "$R/env.txt" 2>&1
python3 "$here/measure_depth.py" "$R" "$deadline"
touch "$R/DONE"
