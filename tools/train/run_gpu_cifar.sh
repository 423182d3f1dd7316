#!/usr/bin/env bash
# CIFAR-10 trainings on the GPU machine: objects-cifar10, then seed-cnn-cifar10.
# Usage (repo root, data in .data/cifar10/{train,test}-jpeg.npz):
#   OUT=/some/dir bash tools/train/run_gpu_cifar.sh
# Budgets (s, wall time of each process incl. start-up and test eval): 205 + 55 = 260.
set -u
cd "$(dirname "$0")/../.."
: "${OUT:?set OUT to the output directory}"
PY=${PYTHON:-python3}
# Optional extra arguments (smoke tests on CPU): TRAIN_ARGS for every script, and per script
# TS_ARGS SEQ_ARGS GAN_ARGS / OBJ_ARGS SEED_ARGS, e.g.
#   OUT=/tmp/smoke PYTHON=/usr/bin/python3 TRAIN_ARGS="--device cpu --limit 2000 --epochs 1" B_TS=20 ... bash $0
B_OBJ=${B_OBJ:-205}; B_SEED=${B_SEED:-55}
mkdir -p "$OUT"
LOG="$OUT/train.log"
T0=$(date +%s)
{
  echo "== run_gpu_cifar.sh $(date -u +%FT%TZ) host $(hostname)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -2
} >>"$LOG"

run() {  # name budget script args...
  local name=$1 budget=$2 script=$3; shift 3
  mkdir -p "$OUT/$name"
  echo "== $name: budget ${budget}s, start $(( $(date +%s) - T0 ))s" >>"$LOG"
  timeout -k 3 $(( budget + 8 )) $PY "tools/train/$script" --out "$OUT/$name" --time-budget "$budget" "$@" ${TRAIN_ARGS:-} >>"$LOG" 2>&1
  local rc=$?
  echo "== $name: rc=$rc, end $(( $(date +%s) - T0 ))s" >>"$LOG"
  return 0
}

run objects-cifar10 "$B_OBJ" objects_cifar10.py ${OBJ_ARGS:-}
run seed-cnn-cifar10 "$B_SEED" seed_cnn_cifar10.py ${SEED_ARGS:-}
echo "== done in $(( $(date +%s) - T0 ))s" >>"$LOG"
tail -n 30 "$LOG"
