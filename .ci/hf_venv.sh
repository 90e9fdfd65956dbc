#!/usr/bin/env bash
# A Python venv with Hugging Face transformers 5, a CPU build of PyTorch 2.x and timm, from pip's configured
# index, for tests/interop/transformers.test.ts (checkpoints loaded by the real library). Idempotent and
# cache-friendly: the venv lives in $DETRLAB_HF_VENV (default ~/.cache/detrlab/hf-venv) and is reused when it
# already imports what the test needs; pip's own wheel cache makes a rebuild cheap.
#   usage: .ci/hf_venv.sh            prints the venv's python on its last line
set -euo pipefail
VENV="${DETRLAB_HF_VENV:-$HOME/.cache/detrlab/hf-venv}"
PY="$VENV/bin/python"
CHECK='import torch, timm, transformers, safetensors, numpy
from transformers import DetrForObjectDetection
assert transformers.__version__.split(".")[0] == "5", transformers.__version__
assert torch.__version__.split(".")[0] == "2", torch.__version__'

if [ -x "$PY" ] && "$PY" -c "$CHECK" 2>/dev/null; then echo "$PY"; exit 0; fi
rm -rf "$VENV"
# One retry per index page (pip's default is 5 with back-off): an unreachable extra index then costs seconds,
# not minutes (here pypi.org is configured but unreachable: 12 min with 5 retries). PIP_RETRIES overrides.
export PIP_RETRIES="${PIP_RETRIES:-1}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q 'torch>=2,<3' 'transformers>=5,<6' timm safetensors numpy

# timm imports torchvision (a dependency of timm). Where the index's torchvision wheel is a CUDA build whose C
# extension cannot load on this machine, `import torchvision` dies in torchvision/_meta_registrations.py, which
# registers fake (meta) kernels for torchvision's own C ops (nms, roi_align, …) that do not exist then. Neither
# timm's ResNet nor DETR uses those ops, so only when the import fails is that module emptied (the ops stay
# unregistered; everything else in torchvision works).
if ! "$PY" -c 'import torchvision' 2>/dev/null; then
  meta="$("$PY" -c 'import importlib.util as u; print(u.find_spec("torchvision").submodule_search_locations[0])')/_meta_registrations.py"
  echo "# torchvision's C ops cannot load here: emptying $meta (see the comment in .ci/hf_venv.sh)" >&2
  : > "$meta"
fi
"$PY" -c "$CHECK"
echo "$PY"
