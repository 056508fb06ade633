#!/usr/bin/env bash
# Run 11: build llama-bench (CUDA, sm_90; pipeline.sh's cmake flags) in the background while measure_depth11.py
# writes the GGUFs that fit the disk, then time decode at depth. Results in /tmp/lcres.
# usage (detached, so it goes on between calls of the lent machine):
#   mkdir -p /tmp/lcres; SRC_TGZ=... setsid nohup bash pipeline-depth11.sh DEADLINE_EPOCH > /tmp/lcres/pipeline.txt 2>&1 &
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
deadline=$1
R=/tmp/lcres
export PYTHONUNBUFFERED=1
rm -f /tmp/build.ok /tmp/build.fail
rm -rf /tmp/lc && mkdir -p /tmp/lc && tar xzf "${SRC_TGZ:-$here/src/llama.cpp-src.tgz}" -C /tmp/lc
(
  if [ -x /tmp/lcbuild/bin/llama-bench ]; then touch /tmp/build.ok; exit 0; fi
  t=$(date +%s)
  cmake -S /tmp/lc -B /tmp/lcbuild -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF -DCMAKE_BUILD_TYPE=Release > "$R/cmake.log" 2>&1 || { touch /tmp/build.fail; exit 1; }
  cmake --build /tmp/lcbuild -j"$(nproc)" --target llama-bench > "$R/build.log" 2>&1 \
    || { tail -60 "$R/build.log" > "$R/build-fail.txt"; touch /tmp/build.fail; exit 1; }
  echo "built in $(( $(date +%s) - t )) s" >> "$R/progress.txt"
  touch /tmp/build.ok
) &
{ nvidia-smi; nproc; free -g; df -h /tmp; python3 -c 'import torch; print(torch.__version__, torch.cuda.get_device_name())'; } > "$R/env.txt" 2>&1
python3 "$here/measure_depth11.py" "$R" "$deadline"
touch "$R/DONE"
