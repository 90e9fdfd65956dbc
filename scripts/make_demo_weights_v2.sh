#!/usr/bin/env bash
# The next models/detr-demo (in progress; the committed weights are still scripts/make_demo_weights.sh's):
# the demo's counterpart of facebook/detr-resnet-50, on the layout designed for DETR (models/detr-demo/README.md,
# "Towards weights that detect") and a backbone pre-trained WITH batch norm, as ImageNet ResNets are:
#   0. the layout: at most 4 objects per image, figures 1.7× larger, fewer crowd regions and occluders;
#   1. the demo's "ImageNet": classification of 64-px crops of all 20 classes with batch norm in train mode
#      (`--batch-norm train`); its running statistics are then frozen by DETR, like ImageNet's;
#   2. the demo's "COCO": DETR on the whole 20-class dataset from that backbone (fresh transformer, head rows =
#      COCO category ids, 91 = no-object), DETR's learning rates. AUGMENT=demo-flip trains with the flip only,
#      as bench/reference/detr_train_demo.py does (default: the demo's scaled DETR recipe).
# Long (hours on 2 shared CPU cores, wasm). Checkpoints every 250 steps into $RUN; run again to continue from
# checkpoints/last (bit-identical to an uninterrupted run). MAX_STEPS=n stops this invocation after n steps.
set -euo pipefail
cd "$(dirname "$0")/.."
D="node bin/detrlab.js"
DATA=${DATA:-data/demo_v2}
RUN=${RUN:-runs/demo_v2_pretrain}
CLASSES="person,bicycle,car,motorcycle,bus,train,truck,boat,traffic light,fire hydrant,stop sign,bird,cat,dog,horse,sheep,cow,elephant,umbrella,kite"

$D make-demo --out "$DATA" --max-objects 4 --object-scale 1.7 --crowd-prob 0.04 --occluder-prob 0.25
$D subset --coco-root "$DATA" --out-root "${DATA}_all" --classes "$CLASSES"
$D crops --data-root "${DATA}_all" --out "${DATA}_all_crops"
# 1. the backbone (ResNet-18 at width 32, 3 stages), batch norm in train mode
[ -f runs/demo_v2_backbone/model.safetensors ] ||
  $D train-classifier --crops "${DATA}_all_crops" --backbone-weights none --arch demo --trainable-from all \
    --batch-norm train --epochs 6 --lr 2e-3 --lr-backbone 2e-3 --batch-size 64 --image-size 64 --seed 0 \
    --output-dir runs/demo_v2_backbone --save-weights
# 2. DETR on the whole dataset from that backbone (batch norm frozen with the learned statistics)
RESUME=""
[ -f "$RUN/checkpoints/last/trainer_state.json" ] && RESUME="--resume"
DETRLAB_NATIVE_KERNELS=${DETRLAB_NATIVE_KERNELS:-1} $D train --data-root "$DATA" --model-name scratch:demo --backbone-init runs/demo_v2_backbone/model.safetensors \
  --augment ${AUGMENT:-demo} --coco-id-labels --output-dir "$RUN" --epochs ${EPOCHS:-200} --batch-size 16 \
  --lr 1e-4 --lr-backbone 1e-5 --seed 0 --workers 2 --eval-every 4 --val-max-images 200 \
  --checkpoint-every 250 $RESUME ${MAX_STEPS:+--max-steps $MAX_STEPS}
