#!/usr/bin/env bash
# Reproduces models/detr-demo/ — the demo profile's counterpart of facebook/detr-resnet-50 — with detrlab's
# own commands, the way the real weights were made (models/detr-demo/README.md has the measurements):
#   1. the demo's "ImageNet": classification of 64-px crops of all 20 demo classes by the demo backbone
#      (ResNet-18 at width 32, 3 stages) with batch norm in train mode; DETR then freezes its statistics,
#      as it freezes ImageNet's;
#   2. the demo's "COCO": DETR on the whole 20-class demo dataset from that backbone (fresh transformer, head
#      rows = COCO category ids, 91 = no-object), DETR's learning rates 1e-4 / 1e-5, batch 16, horizontal flip
#      only at the demo's 128 px (the recipe of bench/reference/detr_train_demo.py), 80 epochs = 10,000 steps
#      with the learning rates divided by 10 after epoch 64;
#   3. checkpoints/last converted to float16 (half the bytes; loaded back as float32).
# About 1 h 40 min alone on 2 CPU cores (wasm with native kernels, 2 workers, ~36 img/s). Checkpoints every 250
# steps into $RUN; run again to continue from checkpoints/last (bit-identical to an uninterrupted run on the
# same machine). MAX_STEPS=n stops this invocation after n steps.
set -euo pipefail
cd "$(dirname "$0")/.."
D="node bin/detrlab.js"
DATA=${DATA:-data/demo}
RUN=${RUN:-runs/demo_pretrain}
CLASSES="person,bicycle,car,motorcycle,bus,train,truck,boat,traffic light,fire hydrant,stop sign,bird,cat,dog,horse,sheep,cow,elephant,umbrella,kite"

$D make-demo --out "$DATA"
$D subset --coco-root "$DATA" --out-root "${DATA}_all" --classes "$CLASSES"
$D crops --data-root "${DATA}_all" --out "${DATA}_all_crops"
# 1. the backbone, batch norm in train mode
[ -f runs/demo_backbone/model.safetensors ] ||
  $D train-classifier --crops "${DATA}_all_crops" --backbone-weights none --arch demo --trainable-from all \
    --batch-norm train --epochs 6 --lr 2e-3 --lr-backbone 2e-3 --batch-size 64 --image-size 64 --seed 0 \
    --output-dir runs/demo_backbone --save-weights
# 2. DETR on the whole dataset from that backbone (batch norm frozen with the learned statistics)
RESUME=""
[ -f "$RUN/checkpoints/last/trainer_state.json" ] && RESUME="--resume"
DETRLAB_NATIVE_KERNELS=${DETRLAB_NATIVE_KERNELS:-1} $D train --data-root "$DATA" --model-name scratch:demo \
  --backbone-init runs/demo_backbone/model.safetensors --augment ${AUGMENT:-demo-flip} --coco-id-labels \
  --output-dir "$RUN" --epochs ${EPOCHS:-80} --batch-size 16 --lr 1e-4 --lr-backbone 1e-5 --lr-drop ${LR_DROP:-64} \
  --seed 0 --workers 2 --eval-every 4 --val-max-images 200 --checkpoint-every 250 $RESUME \
  ${MAX_STEPS:+--max-steps $MAX_STEPS} ${ALLOW_CHANGED:+--allow-changed-settings}
[ "$(node -p 'const s = require(process.argv[1]); s.epochComplete && s.epoch + 1 >= Number(process.argv[2])' \
  "$PWD/$RUN/checkpoints/last/trainer_state.json" "${EPOCHS:-80}")" = true ] ||
  { echo "training not finished: run this script again to continue"; exit 0; }
# 3. commit-sized copy: float16 tensors, the checkpoint's config.json
mkdir -p models/detr-demo
node -e '
const { readSafetensors, toFloat32, writeSafetensors } = require("./dist/lib/io/safetensors.js");
const run = process.argv[1];
const src = readSafetensors(run + "/checkpoints/last/model.safetensors");
const out = new Map([...src.tensors].map(([k, t]) => [k, { dtype: "F16", shape: t.shape, data: toFloat32(t) }]));
writeSafetensors("models/detr-demo/model.safetensors", out, { ...src.metadata, source: run + "/checkpoints/last (F32 → F16)" });' "$RUN"
cp "$RUN/checkpoints/last/config.json" models/detr-demo/config.json
