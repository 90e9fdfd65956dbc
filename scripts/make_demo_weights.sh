#!/usr/bin/env bash
# Reproduces models/detr-demo/ — the demo profile's counterpart of facebook/detr-resnet-50 — with
# detrlab's own commands, the way the real weights were made: a backbone pre-trained by classification
# (the demo's "ImageNet": crops of all 20 demo classes), then DETR trained on the whole demo dataset (the
# demo's "COCO": all 20 classes, head rows = COCO category ids, 91 = no-object). Takes a few hours on
# 2 CPU cores (wasm). Same commands, seeds and backend → the same weights.
set -euo pipefail
cd "$(dirname "$0")/.."
D="node bin/detrlab.js"
ALL="person,bicycle,car,motorcycle,bus,train,truck,boat,traffic_light,fire_hydrant,stop_sign,bird,cat,dog,horse,sheep,cow,elephant,umbrella,kite"

$D make-demo --out data/demo
$D subset --coco-root data/demo --out-root data/demo_all --classes "${ALL//_/ }"
$D crops --data-root data/demo_all --out data/demo_all_crops
# 1. the backbone, by classification of 64-px crops of the 20 classes (ResNet-18 at width 32, 3 stages)
$D train-classifier --crops data/demo_all_crops --backbone-weights none --arch demo --trainable-from all \
  --epochs 8 --lr 1e-3 --lr-backbone 1e-3 --batch-size 64 --image-size 64 --seed 0 \
  --output-dir runs/demo_backbone --save-weights
# 2. DETR on the whole demo dataset, starting from that backbone
$D train --data-root data/demo --model-name scratch:demo --backbone-init runs/demo_backbone/model.safetensors \
  --augment demo --coco-id-labels --output-dir runs/demo_pretrain --epochs ${EPOCHS:-24} --batch-size 16 \
  --lr 2e-4 --lr-backbone 5e-5 --lr-drop 26 --seed 0 --workers 2 --eval-every 2 --val-max-images 200 \
  --checkpoint-every 125 ${MAX_STEPS:+--max-steps $MAX_STEPS}
# 3. commit-sized copy: float16 tensors (half the bytes), the checkpoint's config.json
mkdir -p models/detr-demo
node -e '
const { readSafetensors, toFloat32, writeSafetensors } = require("./dist/lib/io/safetensors.js");
const src = readSafetensors("runs/demo_pretrain/checkpoints/last/model.safetensors");
const out = new Map([...src.tensors].map(([k, t]) => [k, { dtype: "F16", shape: t.shape, data: toFloat32(t) }]));
writeSafetensors("models/detr-demo/model.safetensors", out, { ...src.metadata, source: "runs/demo_pretrain/checkpoints/last (F32 → F16)" });'
cp runs/demo_pretrain/checkpoints/last/config.json models/detr-demo/config.json
