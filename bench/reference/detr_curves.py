"""
The first training steps of detrlab and of facebookresearch/detr from the same weights on the same fixed batch.

    DETR_SRC=path/to/facebookresearch-detr python bench/reference/detr_curves.py --preset demo --steps 100

Both sides: dropout 0, no augmentation, one padded batch of 2 repeated every step, the set loss with auxiliary
terms, global-norm clipping at 0.1 (torch.nn.utils.clip_grad_norm_), AdamW (torch.optim.AdamW) with lr 1e-4 for the
transformer and 1e-5 for the backbone, weight decay 1e-4 — detrlab train's recipe. detrlab runs
`detrlab parity detr --steps N`. Prints the loss at chosen steps and the largest relative difference;
writes runs/bench/detr_curves.json. Says so and exits 0 where torch or DETR_SRC is missing.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError as e:  # the bench runs where PyTorch is installed, and says so where it is not
    print(f"detr_curves: PyTorch is not installed here ({e}); nothing measured")
    sys.exit(0)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if not os.environ.get("DETR_SRC"):
    print("detr_curves: set DETR_SRC to a checkout of facebookresearch/detr; nothing measured")
    sys.exit(0)
from detr_torch import build, import_detr, hf_to_pt  # noqa: E402
from detr_grads import PRESETS, calibrate_frozen_bn, fixed_batch, hf_state, write_parity_inputs  # noqa: E402


def torch_curve(cfg, detr, weights, pixels, mask, targets, steps, lr, lr_backbone, wd, clip):
    from util.misc import NestedTensor
    model, criterion = build(cfg, detr)
    model.load_state_dict(hf_to_pt(weights, cfg), strict=True)
    model.train()
    groups = [
        {"params": [p for n, p in model.named_parameters() if "backbone" not in n and p.requires_grad], "lr": lr},
        {"params": [p for n, p in model.named_parameters() if "backbone" in n and p.requires_grad], "lr": lr_backbone},
    ]  # main.py's param_dicts
    opt = torch.optim.AdamW(groups, lr=lr, weight_decay=wd)
    tg = [{"labels": torch.tensor(t["class_labels"]), "boxes": torch.tensor(t["boxes"])} for t in targets]
    curve = []
    for _ in range(steps):
        out = model(NestedTensor(pixels, mask))
        losses = criterion(out, tg)
        total = sum(losses[k] * criterion.weight_dict[k] for k in losses if k in criterion.weight_dict)
        opt.zero_grad()
        total.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)  # engine.py train_one_epoch
        opt.step()
        curve.append(float(total.detach()))
    return curve


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", choices=sorted(PRESETS), default="demo")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--detrlab", default="node bin/detrlab.js")
    ap.add_argument("--backend", default="wasm")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/bench/detr_curves.json")
    a = ap.parse_args()
    from safetensors.torch import load_file
    detr = import_detr()
    cfg = PRESETS[a.preset]
    pixels, mask, targets = fixed_batch(cfg, a.seed)
    model, _ = build(cfg, detr)
    calibrate_frozen_bn(model, pixels, mask, np.random.default_rng(a.seed), detr["FrozenBatchNorm2d"])
    weights = hf_state(model, cfg)
    hp = dict(lr=1e-4, lr_backbone=1e-5, wd=1e-4, clip=0.1)
    ref = torch_curve(cfg, detr, weights, pixels, mask, targets, a.steps, **hp)
    with tempfile.TemporaryDirectory() as d:
        write_parity_inputs(d, weights, pixels, mask, targets)
        cmd = a.detrlab.split() + ["parity", "detr", "--weights", f"{d}/w.safetensors", "--inputs", f"{d}/in.safetensors",
                                   "--out", f"{d}/out.safetensors", "--targets", f"{d}/t.json", "--n-heads",
                                   str(cfg["n_heads"]), "--backend", a.backend, "--steps", str(a.steps),
                                   "--lr", str(hp["lr"]), "--lr-backbone", str(hp["lr_backbone"]),
                                   "--weight-decay", str(hp["wd"]), "--clip-max-norm", str(hp["clip"])]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        ours = load_file(f"{d}/out.safetensors")["curve.loss_total"].tolist()
    rel = [abs(o - t) / abs(t) for o, t in zip(ours, ref)]
    print(f"preset {a.preset}, backend {a.backend}, {a.steps} steps on one fixed padded batch of 2, torch {torch.__version__}")
    print(f"{'step':>6}{'torch loss':>14}{'detrlab loss':>14}{'rel diff':>12}")
    for s in sorted({1, 2, 5, 10, 20, 30, 50, 75, a.steps} & set(range(1, a.steps + 1))):
        print(f"{s:>6}{ref[s - 1]:>14.6f}{ours[s - 1]:>14.6f}{rel[s - 1]:>12.2e}")
    first10 = max(rel[:10])
    print(f"largest relative difference: steps 1-10 {first10:.2e}, all {a.steps} steps {max(rel):.2e}; "
          f"loss {ref[0]:.4f} -> {ref[-1]:.4f} (torch), {ours[0]:.4f} -> {ours[-1]:.4f} (detrlab)")
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"preset": a.preset, "backend": a.backend, "steps": a.steps, "max_rel_diff_first10": first10,
                   "max_rel_diff": max(rel), "torch": ref, "detrlab": ours}, f, indent=1)


if __name__ == "__main__":
    main()
