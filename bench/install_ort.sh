#!/usr/bin/env bash
# Installs ONNX Runtime's Node.js package (CPU library included) into .cache/ort/ (git-ignored,
# never committed), for tests/models/compare_with_ort.py and bench/run_bench.sh.
# --ignore-scripts: the post-install script wants the internet and is not needed for CPU use.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache/ort
npm install --prefix .cache/ort --no-audit --no-fund --ignore-scripts onnxruntime-node "$@"
node -e "console.log('onnxruntime-node', require('./.cache/ort/node_modules/onnxruntime-node/package.json').version)"
