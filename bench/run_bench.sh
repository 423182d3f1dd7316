#!/usr/bin/env bash
# Benchmarks imgrec against ONNX Runtime (CPU, bench/ort_run.js) and PyTorch (bench/torch_bench.py)
# on ResNet-18, MobileNetV2 and SqueezeNet 1.1 (tools/export_reference_models.py: random weights,
# seed 0, the same fixed input for all three engines) at 1 and 2 threads, and prints a Markdown
# table of median milliseconds with the ratios imgrec / ORT and imgrec / PyTorch
# (< 1 means imgrec is faster).
#
# Usage: bash bench/run_bench.sh [--imgrec PATH] [--runs N] [--warmup W] [--threads "1 2"] [--rounds R]
#                                [--models resnet18,mobilenet_v2,squeezenet1_1] [--models-dir DIR]
#                                [--unset-openblas-coretype | --openblas-coretype NAME]
#   --imgrec PATH               imgrec-run to time (default build/engine/imgrec-run)
#   --rounds R                  repeat the whole imgrec/ORT/PyTorch alternation R times (default 1;
#                               the order reversed in every even round)
#                               and report the median of the rounds' medians and the median of
#                               the rounds' ratios with their range: on a shared VM the speed
#                               drifts by 20-40 % over minutes, and a single pass measured it.
#   --models-dir DIR            where the exported models live / are exported (default build/reference-models)
#   --unset-openblas-coretype   run every timed command with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
#                               unset; by default the environment is left as it is. The output says
#                               which. imgrec does not use OpenBLAS; Debian's PyTorch does, and
#                               OpenBLAS 0.3.21 does not know recent Xeons (e.g. CPU model 207): it
#                               falls back to its slow "Prescott" kernels when nothing is set.
#   --openblas-coretype NAME    run every timed command with OPENBLAS_CORETYPE=NAME (e.g. Haswell,
#                               SkylakeX): PyTorch's figure with OpenBLAS's fast kernels.
# Needs: ONNX Runtime in .cache/ort (bash bench/install_ort.sh), node, /usr/bin/python3 with torch.
set -euo pipefail
cd "$(dirname "$0")/.."
IMGREC=build/engine/imgrec-run
RUNS=30
WARMUP=5
ROUNDS=1
THREADS="1 2"
MODELS=resnet18,mobilenet_v2,squeezenet1_1
MODELS_DIR=build/reference-models
UNSET=0
CORETYPE=
while [ $# -gt 0 ]; do
  case "$1" in
    --imgrec) IMGREC=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    --models-dir) MODELS_DIR=$2; shift 2 ;;
    --unset-openblas-coretype) UNSET=1; shift ;;
    --openblas-coretype) CORETYPE=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
PY=/usr/bin/python3
[ -x "$IMGREC" ] || { echo "run_bench.sh: $IMGREC not found (build first: meson setup build && meson compile -C build)" >&2; exit 1; }
[ -d .cache/ort/node_modules/onnxruntime-node ] || { echo "run_bench.sh: ONNX Runtime not installed (bash bench/install_ort.sh)" >&2; exit 1; }
command -v node >/dev/null || { echo "run_bench.sh: node not found" >&2; exit 1; }

# Export the models that are missing (or older than the exporter).
need=()
for m in ${MODELS//,/ }; do
  if [ ! -f "$MODELS_DIR/$m.onnx" ] || [ tools/export_reference_models.py -nt "$MODELS_DIR/$m.onnx" ]; then need+=("$m"); fi
done
if [ ${#need[@]} -gt 0 ]; then
  models_csv=$(IFS=,; echo "${need[*]}")
  $PY tools/export_reference_models.py --out "$MODELS_DIR" --only "$models_csv" 2>/dev/null
fi

if [ "$UNSET" = 1 ]; then
  ENVCMD=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
  blas_note="OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE were UNSET for the timed commands (OpenBLAS detects the CPU)"
elif [ -n "$CORETYPE" ]; then
  ENVCMD=(env "OPENBLAS_CORETYPE=$CORETYPE")
  blas_note="OPENBLAS_CORETYPE was NOT unset: it was SET to $CORETYPE for the timed commands (was ${OPENBLAS_CORETYPE-(not set)}); OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-(not set)}"
else
  ENVCMD=(env)
  blas_note="OPENBLAS_CORETYPE was NOT unset: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-(not set)}, OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-(not set)}"
fi

# imgrec links no BLAS; PyTorch's OpenBLAS is the one these variables steer
# awk reads all of ldconfig's output: exiting early would end ldconfig by SIGPIPE, which pipefail
# and set -e turned into a silent exit of the whole benchmark
blas_lib=$(ldconfig -p 2>/dev/null | awk '/libopenblas\.so\.0 / && !found {print $NF; found = 1}')
blas_core=unknown
if [ -n "$blas_lib" ]; then
  blas_core=$("${ENVCMD[@]}" $PY -c 'import ctypes, sys
l = ctypes.CDLL(sys.argv[1]); l.openblas_get_corename.restype = ctypes.c_char_p
print(l.openblas_get_corename().decode())' "$blas_lib" 2>/dev/null || echo unknown)
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT
add() {  # add MODEL ENGINE JSON-or-error (in round $round)
  local model=$1 engine=$2 out=$3
  if [ -n "$out" ] && [ "${out:0:1}" = "{" ]; then
    $PY -c 'import json,sys; r=json.loads(sys.argv[3]); r["bench_model"]=sys.argv[1]; r["engine"]=sys.argv[2]; r["round"]=int(sys.argv[4]); print(json.dumps(r))' \
      "$model" "$engine" "$out" "$round" >> "$results"
  else
    $PY -c 'import json,sys; print(json.dumps({"bench_model":sys.argv[1],"engine":sys.argv[2],"threads":int(sys.argv[3]),"round":int(sys.argv[5]),"error":sys.argv[4][-300:]}))' \
      "$model" "$engine" "$t" "${out:-no output}" "$round" >> "$results"
  fi
}

echo "# imgrec benchmark: median of $RUNS runs after $WARMUP warm-up runs, batch 1, $ROUNDS round(s)"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- OpenBLAS (PyTorch's; imgrec links none): $blas_note; kernels in use: $blas_core ($blas_lib)"
echo "- engines: imgrec ($IMGREC), ONNX Runtime $(node -p "require('./.cache/ort/node_modules/onnxruntime-node/package.json').version") CPU (intraOpNumThreads=T, sequential), PyTorch $($PY -c 'import torch; print(torch.__version__)' 2>/dev/null) (torch.set_num_threads(T), no_grad)"
echo
for round in $(seq "$ROUNDS"); do
for m in ${MODELS//,/ }; do
  onnx="$MODELS_DIR/$m.onnx"
  x="$MODELS_DIR/$m.input.npy"
  for t in $THREADS; do
    # imgrec, ORT, PyTorch; reversed in even rounds: whoever runs second in a row meets a CPU
    # past its first boost (bench/ab_profile.py: 3 % between identical builds, same order)
    order="imgrec onnxruntime pytorch"
    [ $((round % 2)) -eq 0 ] && order="pytorch onnxruntime imgrec"
    for engine in $order; do
      case $engine in
        imgrec) out=$("${ENVCMD[@]}" "$IMGREC" "$onnx" --bench "$RUNS" --warmup "$WARMUP" --threads "$t" --input "input=$x" 2>&1 | tail -1) || true ;;
        onnxruntime) out=$("${ENVCMD[@]}" node bench/ort_run.js "$onnx" --bench "$RUNS" --warmup "$WARMUP" --threads "$t" --input "input=$x" 2>&1 | tail -1) || true ;;
        pytorch) out=$("${ENVCMD[@]}" $PY bench/torch_bench.py "$m" --runs "$RUNS" --warmup "$WARMUP" --threads "$t" --input "$x" 2>/dev/null | tail -1) || true ;;
      esac
      add "$m" "$engine" "$out"
    done
    echo "  done: round $round $m threads=$t" >&2
  done
done
done
$PY bench/bench_table.py "$results"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
