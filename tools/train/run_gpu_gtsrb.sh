#!/usr/bin/env bash
# GTSRB trainings on the GPU machine: traffic-signs, then traffic-signs-seq, then traffic-signs-gan.
# Usage (repo root, data in .data/gtsrb/train-jpeg.npz + signnames.csv):
#   OUT=/some/dir bash tools/train/run_gpu_gtsrb.sh
# Budgets (s, wall time of each process incl. start-up and final eval): 95 + 85 + 85 = 265.
# Every script saves weights/metrics progressively; a failure in one does not stop the others.
set -u
cd "$(dirname "$0")/../.."
: "${OUT:?set OUT to the output directory}"
PY=${PYTHON:-python3}
# Optional extra arguments (smoke tests on CPU): TRAIN_ARGS for every script, and per script
# TS_ARGS SEQ_ARGS GAN_ARGS / OBJ_ARGS SEED_ARGS, e.g.
#   OUT=/tmp/smoke PYTHON=/usr/bin/python3 TRAIN_ARGS="--device cpu --limit 2000 --epochs 1" B_TS=20 ... bash $0
B_TS=${B_TS:-95}; B_SEQ=${B_SEQ:-85}; B_GAN=${B_GAN:-85}
mkdir -p "$OUT"
LOG="$OUT/train.log"
T0=$(date +%s)
{
  echo "== run_gpu_gtsrb.sh $(date -u +%FT%TZ) host $(hostname)"
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

run traffic-signs "$B_TS" traffic_signs.py ${TS_ARGS:-}
run traffic-signs-seq "$B_SEQ" traffic_signs_seq.py --per-frame-weights "$OUT/traffic-signs/weights.npz" ${SEQ_ARGS:-}
run traffic-signs-gan "$B_GAN" traffic_signs_gan.py --classifier "$OUT/traffic-signs/weights.npz" ${GAN_ARGS:-}
echo "== done in $(( $(date +%s) - T0 ))s" >>"$LOG"
tail -n 40 "$LOG"
