#!/usr/bin/env bash
# Makes src.tgz (about 3 MB): llama.cpp b228aba (2024-05-12) as llama-cpp-python 0.2.74's sdist vendors it, the
# build of XiongjieDai's May 2024 tables (b2824-b2843) within days: CUDA graphs on, MMQ not the prompt default,
# flash attention off unless asked. Run on a machine with pip; then copy this folder with src.tgz into an ignored
# folder of the checkout and run run.sh there on a GPU machine (docs/method.md, round 6 finding).
# usage: make-source.sh OUTDIR
set -euo pipefail
out=$(realpath "$1")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pip download -q --no-binary :all: --no-deps -d "$tmp" "llama-cpp-python==0.2.74"
tar xzf "$tmp"/llama_cpp_python-0.2.74.tar.gz -C "$tmp"
src="$tmp/llama_cpp_python-0.2.74/vendor/llama.cpp"
mkdir -p "$out"
tar czf "$out/src.tgz" -C "$src" --exclude=./kompute --exclude=./media --exclude=./ggml-vulkan-shaders.hpp \
  --exclude=./models --exclude=./docs --exclude=./.git .
echo "$out/src.tgz: $(du -h "$out/src.tgz" | cut -f1)"
