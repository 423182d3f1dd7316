#!/usr/bin/env bash
# Builds the loader fuzzer with clang (ASan + UBSan + libFuzzer) and runs it
# for SECONDS (default 600) with the conformance models as seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzzing=true -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link
fi
meson compile -C build-fuzz fuzz-loader
corpus=build-fuzz/corpus
if [ ! -d "$corpus" ]; then
  mkdir -p "$corpus"
  for f in /usr/share/libonnx-testdata/data/{node,pytorch-converted,pytorch-operator,simple}/*/model.onnx; do
    cp "$f" "$corpus/$(echo "$f" | md5sum | cut -c1-16).onnx"
  done
fi
mkdir -p build-fuzz/artifacts
build-fuzz/tests/fuzz/fuzz-loader -max_total_time="$seconds" -fork=1 -ignore_crashes=1 -rss_limit_mb=2048 \
  -malloc_limit_mb=1024 -timeout=10 -artifact_prefix=build-fuzz/artifacts/ "$corpus"
