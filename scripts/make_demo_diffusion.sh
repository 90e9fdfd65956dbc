#!/usr/bin/env bash
# Reproduces models/tiny-sd-demo/ — the demo profile's stand-in for SD 1.5 + ControlNet-canny — with detrlab's
# own commands: crops of all 20 demo classes in the demo's first layout (1–8 smaller objects per image, the
# make-demo default when tiny-sd-demo was trained; the flags below pin it),
# then `detrlab train-diffusion` (autoencoder, then text encoder + UNet + ControlNet), export to ONNX, a check
# that `detrlab synth` samples it, and its quality figures. Long (hours on 2 shared CPU cores, wasm): it runs
# under `nice`, checkpoints every 100 steps into $OUT and, run again, continues where it stopped
# (bit-identical to an uninterrupted run). MAX_STEPS=n stops this invocation after n steps.
set -euo pipefail
cd "$(dirname "$0")/.."
D="node bin/detrlab.js"
OUT=${OUT:-data/diffusion}
ALL="person,bicycle,car,motorcycle,bus,train,truck,boat,traffic_light,fire_hydrant,stop_sign,bird,cat,dog,horse,sheep,cow,elephant,umbrella,kite"

CROPS=data/demo_v1_all_crops
[ -f data/demo_v1/annotations/instances_train2017.json ] ||
  $D make-demo --out data/demo_v1 --max-objects 8 --object-scale 1 --crowd-prob 0.06 --occluder-prob 0.35
$D subset --coco-root data/demo_v1 --out-root data/demo_v1_all --classes "${ALL//_/ }"
$D crops --data-root data/demo_v1_all --out "$CROPS"
nice -n 10 $D train-diffusion --crops "$CROPS" --out "$OUT" --checkpoint-every 100 \
  --vae-steps 1500 --vae-channels 16,48,96,80 --vae-blocks 1 --steps 8000 --batch 32 --seed 0 ${MAX_STEPS:+--max-steps $MAX_STEPS}
[ -f "$OUT/model/detrlab_diffusion.json" ] || { echo "training not finished: run this script again to continue"; exit 0; }
# sample the rare classes of the 20-class crops with the unchanged synth stage, then measure them
$D synth --crops "$CROPS" --model-dir "$OUT/model" --size 64 --per-class 16 --out "$OUT/synth_check" --examples "$OUT/synth_check_examples"
$D train-classifier --crops "$CROPS" --epochs 3 --output-dir "$OUT/real_only_classifier" --save-weights
node -e '
const { synthQuality, qualityTable } = require("./dist/lib/synth/synth_quality.js");
const out = process.argv[1];
synthQuality({ synth: out + "/synth_check", crops: process.argv[2], classifier: out + "/real_only_classifier/model.safetensors" })
  .then((q) => console.log(qualityTable(q)));' "$OUT" "$CROPS"
# commit-sized copy (float16 weights, computed in float32)
rm -rf models/tiny-sd-demo.new && cp -r "$OUT/model" models/tiny-sd-demo.new && du -sh models/tiny-sd-demo.new
echo "review models/tiny-sd-demo.new, then: rm -rf models/tiny-sd-demo && mv models/tiny-sd-demo.new models/tiny-sd-demo"
