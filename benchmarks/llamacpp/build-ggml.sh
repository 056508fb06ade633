# Sourced by kernels-rest.sh (run 5) and kernels-run6.sh (run 6): build_ggml TARBALL LOG builds ggml alone from
# llama.cpp's source tarball (CUDA, sm_90, no flash-attention kernels: mmbench needs none), writes the build time
# to LOG and compiles mmbench.cpp (from $here) against it into /tmp/mmbench. Build logs go to $OUT.
build_ggml() {
  local tarball=$1 log=$2 t0 lib
  t0=$(date +%s)
  mkdir -p /tmp/lc && tar xzf "$tarball" -C /tmp/lc
  cmake -S /tmp/lc -B /tmp/b -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_CUDA_FA=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF -DCMAKE_BUILD_TYPE=Release > "$OUT/cmake.log" 2>&1 || { tail -20 "$OUT/cmake.log"; return 1; }
  cmake --build /tmp/b -j"$(nproc)" --target ggml > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; return 1; }
  echo "ggml built in $(( $(date +%s) - t0 )) s" | tee "$log"
  lib=$(dirname "$(find /tmp/b -name 'libggml-base.so' | head -1)")
  g++ -O2 -std=c++17 "$here/mmbench.cpp" -I/tmp/lc/ggml/include -L"$lib" -lggml -lggml-base -Wl,-rpath,"$lib" \
    -o /tmp/mmbench
}
