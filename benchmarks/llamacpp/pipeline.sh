#!/usr/bin/env bash
# Build llama.cpp (CUDA, sm_90) in the background while measure.py makes the first GGUF, then measure.
# Adapted from shared/tools/llamacpp-gpu/run.sh (same cmake flags); results in /tmp/lcres.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
deadline=$1; shift
R=/tmp/lcres
export PYTHONUNBUFFERED=1
# a machine kept warm between calls keeps /tmp: a failed call's marker would stop the next at once (run 8)
rm -f /tmp/build.ok /tmp/build.fail /tmp/kernels.done
rm -rf /tmp/lc && mkdir -p /tmp/lc && tar xzf "${SRC_TGZ:-$here/src/llama.cpp-src.tgz}" -C /tmp/lc
(
  if [ -x /tmp/lcbuild/bin/llama-bench ]; then touch /tmp/build.ok /tmp/kernels.done; exit 0; fi
  t=$(date +%s)
  cmake -S /tmp/lc -B /tmp/lcbuild -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF -DCMAKE_BUILD_TYPE=Release > "$R/cmake.log" 2>&1 || { touch /tmp/build.fail /tmp/kernels.done; exit 1; }
  cmake --build /tmp/lcbuild -j"$(nproc)" --target llama-bench llama-batched-bench llama-quantize \
    > "$R/build.log" 2>&1 || { touch /tmp/build.fail /tmp/kernels.done; exit 1; }
  echo "built in $(( $(date +%s) - t )) s" >> "$R/progress.txt"
  touch /tmp/build.ok
  # run 5: llama.cpp's matmul kernels alone (mmbench.cpp), before any model is benchmarked (quantizing goes on)
  if [ -n "${KERNELS:-}" ]; then
    lib=$(dirname "$(find /tmp/lcbuild -name 'libggml-base.so' | head -1)")
    g++ -O2 -std=c++17 "$here/mmbench.cpp" -I/tmp/lc/ggml/include -L"$lib" -lggml -lggml-base \
      -Wl,-rpath,"$lib" -o /tmp/mmbench > "$R/kernels.log" 2>&1 \
      && timeout 300 /tmp/mmbench "$here/kernels.cases" "$KERNELS" > "$R/kernels.jsonl" 2>> "$R/kernels.log"
    echo "kernels rc=$? in $(( $(date +%s) - t )) s since the build began" >> "$R/progress.txt"
  fi
  touch /tmp/kernels.done
) &
{ nvidia-smi; nproc; free -g; df -h /tmp; python3 -c 'import torch; print(torch.__version__, torch.cuda.get_device_name())'; } > "$R/env.txt" 2>&1
python3 "$here/measure.py" "$R" "$deadline" "$@"
touch "$R/DONE"
