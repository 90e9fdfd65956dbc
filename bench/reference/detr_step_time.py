"""
PyTorch's time for the training step `npm run bench -- train` times in detrlab: facebookresearch/detr's DETR + set
criterion (bench/reference/detr_torch.py), random weights, one step = forward, loss (with auxiliary terms),
backward, clip_grad_norm_(0.1), AdamW (lr 1e-4 / backbone 1e-5, weight decay 1e-4).

    DETR_SRC=path/to/detr python bench/reference/detr_step_time.py --preset r50 --batch 2 --size 512 512 --threads 2

Prints one JSON line {"preset", "batch", "size", "threads", "torch", "step_ms" (median), "steps_ms"}. Says so and
exits 0 where torch or DETR_SRC is missing (the detrlab bench then reports no PyTorch figure).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

try:
    import torch
except ImportError as e:
    print(json.dumps({"error": f"PyTorch is not installed here ({e})"}))
    sys.exit(0)
if not os.environ.get("DETR_SRC"):
    print(json.dumps({"error": "set DETR_SRC to a checkout of facebookresearch/detr"}))
    sys.exit(0)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from detr_torch import build, import_detr  # noqa: E402
from detr_grads import PRESETS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", choices=sorted(PRESETS), default="r50")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--size", type=int, nargs=2, default=[512, 512], metavar=("H", "W"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    detr = import_detr()
    from util.misc import NestedTensor
    cfg = PRESETS[a.preset]
    model, criterion = build(cfg, detr)
    model.train()
    backbone = [p for n, p in model.named_parameters() if "backbone" in n and p.requires_grad]
    rest = [p for n, p in model.named_parameters() if "backbone" not in n and p.requires_grad]
    opt = torch.optim.AdamW([{"params": rest, "lr": 1e-4}, {"params": backbone, "lr": 1e-5}], weight_decay=1e-4)
    h, w = a.size
    g = torch.Generator().manual_seed(1)
    x = torch.randn(a.batch, 3, h, w, generator=g)
    mask = torch.zeros(a.batch, h, w, dtype=torch.bool)
    targets = [{"labels": torch.randint(0, cfg["num_classes"], (3,), generator=g),
                "boxes": torch.rand(3, 4, generator=g) * 0.4 + torch.tensor([0.3, 0.3, 0.05, 0.05])}
               for _ in range(a.batch)]
    times = []
    for i in range(a.warmup + a.reps):
        t0 = time.perf_counter()
        out = model(NestedTensor(x, mask))
        losses = criterion(out, targets)
        loss = sum(losses[k] * criterion.weight_dict[k] for k in losses if k in criterion.weight_dict)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({"preset": a.preset, "batch": a.batch, "size": [h, w], "threads": a.threads,
                      "torch": torch.__version__, "step_ms": times[len(times) // 2], "steps_ms": times}))


if __name__ == "__main__":
    main()
