#!/usr/bin/env bash
# One GPU lease, both data sets: the device tool carries at most 64 MiB per call, and GTSRB and
# CIFAR-10 together are ~105 MB. So the lease is used in two calls on the same warm machine:
#
#   call 1 (carry .data/cifar10):  bash tools/train/run_gpu_session.sh cifar
#       copies CIFAR-10 to /tmp/data and starts the CIFAR-10 trainings detached (setsid), returns;
#   call 2 (carry .data/gtsrb):    bash tools/train/run_gpu_session.sh gtsrb
#       copies GTSRB to /tmp/data, starts the GTSRB trainings detached, waits for every training
#       of both calls, then packs weights, metrics and logs into $OUT (*.tar.gz, < 16 MiB each).
#
# Trainings (all in parallel on the one GPU; budgets are wall seconds of each process):
#   objects-cifar10        ResNet-9, 150 epochs, zoom-out augmentation 0.5 (the shipped candidate)
#   objects-cifar10-nozoom the same without zoom-out (ablation)
#   gan-g1                 traffic-signs-gan, extended NDA, G pushes the realism logit (--g-uncond-weight 1)
#   gan-g0                 the same, G plays against the projection logit only (--g-uncond-weight 0)
#   restore-cls            traffic-signs-restore, width 32, + classifier task loss (the shipped candidate)
#   restore-l1             the same without the task loss (pix2pix L1 + adversarial only; ablation)
# Budgets can be overridden: B_OBJ, B_GAN, B_RES (seconds).
set -u
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
RUNS=${RUNS:-/tmp/runs}
DATA=/tmp/data
B_OBJ=${B_OBJ:-300}; B_GAN=${B_GAN:-420}; B_RES=${B_RES:-400}
mkdir -p "$RUNS" "$DATA"

start() {  # name budget script args...: detached, so it outlives this call
  local name=$1 budget=$2 script=$3; shift 3
  mkdir -p "$RUNS/$name"
  echo "$name" >>"$RUNS/jobs"
  setsid bash -c "timeout -k 5 $((budget + 120)) $PY tools/train/$script --out $RUNS/$name $* \
      >$RUNS/$name/train.log 2>&1; echo \$? >$RUNS/$name/rc" </dev/null >/dev/null 2>&1 &
}

case "${1:-}" in
cifar)
  cp -r .data/cifar10 "$DATA/"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >"$RUNS/gpu.txt" 2>&1
  start objects-cifar10 "$B_OBJ" objects_cifar10.py --data-dir "$DATA" --epochs 150 --zoom 0.5 --time-budget "$B_OBJ"
  start objects-cifar10-nozoom "$B_OBJ" objects_cifar10.py --data-dir "$DATA" --epochs 150 --time-budget "$B_OBJ"
  sleep 15   # let both decode the data before the next call replaces the working tree
  tail -n 3 "$RUNS"/objects-cifar10*/train.log
  ;;
gtsrb)
  : "${OUT:?OUT must be set (the device tool sets it)}"
  cp -r .data/gtsrb "$DATA/"
  CLS=models/traffic-signs/traffic-signs.onnx
  start gan-g1 "$B_GAN" traffic_signs_gan.py --data-dir "$DATA" --time-budget "$B_GAN" \
      --classifier "$CLS" --monitor-cifar train --g-uncond-weight 1
  start gan-g0 "$B_GAN" traffic_signs_gan.py --data-dir "$DATA" --time-budget "$B_GAN" \
      --classifier "$CLS" --monitor-cifar train --g-uncond-weight 0
  start restore-cls "$B_RES" traffic_signs_restore.py --data-dir "$DATA" --device cuda --batch 256 --width 32 \
      --pool 12 --pool-workers 6 --cls-weight 0.03 --time-budget "$B_RES" --ckpt-every 30
  start restore-l1 "$B_RES" traffic_signs_restore.py --data-dir "$DATA" --device cuda --batch 256 --width 32 \
      --pool 12 --pool-workers 6 --cls-weight 0 --time-budget "$B_RES" --ckpt-every 30
  # wait for every job (both calls), at most DEADLINE seconds
  t0=$(date +%s); DEADLINE=${DEADLINE:-520}
  while :; do
    left=0
    for j in $(cat "$RUNS/jobs"); do [ -f "$RUNS/$j/rc" ] || left=$((left + 1)); done
    [ "$left" = 0 ] && break
    [ $(( $(date +%s) - t0 )) -ge "$DEADLINE" ] && { echo "deadline: $left jobs still running"; break; }
    sleep 5
  done
  for j in $(cat "$RUNS/jobs"); do echo "== $j rc=$(cat "$RUNS/$j/rc" 2>/dev/null)"; tail -n 4 "$RUNS/$j/train.log"; done
  cd "$RUNS"
  tar czf "$OUT/cifar.tar.gz" gpu.txt objects-cifar10*/{weights.npz,metrics.json,train.log,rc} 2>/dev/null
  tar czf "$OUT/gan-g1.tar.gz" gan-g1/{generator.npz,discriminator.npz,metrics.json,train.log,rc} 2>/dev/null
  tar czf "$OUT/gan-g0.tar.gz" gan-g0/{generator.npz,discriminator.npz,metrics.json,train.log,rc} 2>/dev/null
  tar czf "$OUT/restore.tar.gz" restore-*/{weights.npz,metrics.json,train.log,rc} 2>/dev/null
  ls -la "$OUT"
  ;;
*)
  echo "usage: $0 cifar|gtsrb" >&2; exit 2 ;;
esac
