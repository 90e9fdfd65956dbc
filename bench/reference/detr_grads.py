"""
detrlab's DETR loss gradients against facebookresearch/detr's on one padded batch.

    DETR_SRC=path/to/facebookresearch-detr python bench/reference/detr_grads.py --preset r50 [--float64-truth]

Builds the reference model (bench/reference/detr_torch.py) with random weights and frozen batch-norm statistics
calibrated on the batch (as a pre-trained backbone has: non-trivial scale and shift), writes the weights under HF
names, the inputs and targets, runs `detrlab parity detr` on them, and compares losses and the gradient of every
trainable tensor: max |detrlab − torch| / max |torch| per tensor. With --float64-truth the reference also runs in
float64, so each float32 implementation's distance from the exact gradient is printed too.
Writes runs/bench/detr_grads.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from detr_torch import build, import_detr, pt_grads_to_hf, _all_hf_names, _pt_source  # noqa: E402

PRESETS = {
    "r50": dict(num_classes=10, d_model=256, n_heads=8, enc_layers=6, dec_layers=6, ffn_dim=2048, num_queries=100,
                depth=50, width=64, num_stages=4, trainable_from="layer2", size=(96, 128)),
    "r18": dict(num_classes=10, d_model=256, n_heads=8, enc_layers=6, dec_layers=6, ffn_dim=2048, num_queries=100,
                depth=18, width=64, num_stages=4, trainable_from="layer2", size=(96, 128)),
    "demo": dict(num_classes=20, d_model=128, n_heads=4, enc_layers=2, dec_layers=2, ffn_dim=512, num_queries=25,
                 depth=18, width=32, num_stages=3, trainable_from="layer2", size=(96, 128)),
}


def calibrate_frozen_bn(model, pixels, mask, rng: np.random.Generator, FrozenBN) -> None:
    """Sets every frozen BN's running statistics to its input's batch statistics (as a trained network's are) and
    draws weight ~ U(0.5, 1.5), bias ~ N(0, 0.3), so the folded scale and shift are far from the identity."""
    from util.misc import NestedTensor

    def hook(mod, inp):
        x = inp[0].detach()
        mod.running_mean.copy_(x.mean(dim=(0, 2, 3)))
        mod.running_var.copy_(x.var(dim=(0, 2, 3)) + 1e-3)
        c = x.shape[1]
        mod.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, c)).to(x.dtype))
        mod.bias.copy_(torch.from_numpy(rng.normal(0, 0.3, c)).to(x.dtype))

    hs = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, FrozenBN)]
    with torch.no_grad():
        model.backbone(NestedTensor(pixels, mask))
    for h in hs:
        h.remove()


def hf_state(model, cfg) -> dict[str, torch.Tensor]:
    """Every tensor of the reference model under HF names (backbone buffers included)."""
    sd = model.state_dict()
    out = {}
    for k, v in sd.items():
        if k.startswith("backbone.0.body."):
            out["model.backbone.conv_encoder.model." + k[len("backbone.0.body."):]] = v
    for h in _all_hf_names(cfg):
        k, sl = _pt_source(h, cfg)
        if k in sd:
            out[h] = sd[k][sl] if sl is not None else sd[k]
    return {k: v.detach().float().contiguous().clone() for k, v in out.items()}


def fixed_batch(cfg: dict, seed: int):
    """Two images, the second padded right and bottom (zeros, as NestedTensor pads), and their targets."""
    torch.manual_seed(seed)
    h, w = cfg["size"]
    pixels = torch.randn(2, 3, h, w)
    mask = torch.zeros(2, h, w, dtype=torch.bool)          # detr: True = padding
    mask[1, :, int(w * 0.7):] = True
    mask[1, int(h * 0.8):, :] = True
    pixels[mask[:, None].expand_as(pixels)] = 0.0
    targets = [{"class_labels": [0, 2], "boxes": [[0.3, 0.3, 0.2, 0.2], [0.7, 0.6, 0.3, 0.4]]},
               {"class_labels": [1, 5, 9], "boxes": [[0.5, 0.5, 0.4, 0.3], [0.2, 0.7, 0.1, 0.2], [0.4, 0.2, 0.3, 0.2]]}]
    return pixels, mask, targets


def write_parity_inputs(d: str, weights, pixels, mask, targets) -> None:
    from safetensors.torch import save_file
    save_file(weights, f"{d}/w.safetensors", metadata={"format": "pt"})
    save_file({"pixel_values": pixels.contiguous(), "pixel_mask": (~mask).to(torch.uint8).contiguous()},
              f"{d}/in.safetensors", metadata={"format": "pt"})
    with open(f"{d}/t.json", "w") as f:
        json.dump(targets, f)


def run_reference(cfg, detr, weights_hf, pixels, mask, targets, dtype):
    from util.misc import NestedTensor
    from detr_torch import hf_to_pt
    model, criterion = build(cfg, detr)
    model.load_state_dict(hf_to_pt({k: v.to(dtype) for k, v in weights_hf.items()}, cfg), strict=True)
    model = model.to(dtype)
    model.train()  # dropout is 0; frozen BN has no train mode
    out = model(NestedTensor(pixels.to(dtype), mask))
    tg = [{"labels": torch.tensor(t["class_labels"]), "boxes": torch.tensor(t["boxes"], dtype=dtype)} for t in targets]
    losses = criterion(out, tg)
    total = sum(losses[k] * criterion.weight_dict[k] for k in losses if k in criterion.weight_dict)
    total.backward()
    return {k: float(v.detach()) for k, v in losses.items() if k in criterion.weight_dict} | {"loss_total": float(total.detach())}, \
        pt_grads_to_hf(model, cfg), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", choices=sorted(PRESETS), default="r50")
    ap.add_argument("--detrlab", default="node bin/detrlab.js", help="command that runs detrlab")
    ap.add_argument("--backend", default="wasm")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--float64-truth", action="store_true")
    ap.add_argument("--out", default="runs/bench/detr_grads.json")
    a = ap.parse_args()
    from safetensors.torch import load_file
    detr = import_detr()
    cfg = PRESETS[a.preset]
    pixels, mask, targets = fixed_batch(cfg, a.seed)
    rng = np.random.default_rng(a.seed)
    h, w = cfg["size"]
    model, _ = build(cfg, detr)
    calibrate_frozen_bn(model, pixels, mask, rng, detr["FrozenBatchNorm2d"])
    weights = hf_state(model, cfg)
    ref_losses, ref_grads, _ = run_reference(cfg, detr, weights, pixels, mask, targets, torch.float32)
    truth = None
    if a.float64_truth:
        torch.set_default_dtype(torch.float64)
        t_losses, truth, _ = run_reference(cfg, detr, weights, pixels, mask, targets, torch.float64)
        torch.set_default_dtype(torch.float32)

    with tempfile.TemporaryDirectory() as d:
        write_parity_inputs(d, weights, pixels, mask, targets)
        names = sorted(ref_grads)
        cmd = a.detrlab.split() + ["parity", "detr", "--weights", f"{d}/w.safetensors", "--inputs", f"{d}/in.safetensors",
                                   "--out", f"{d}/out.safetensors", "--targets", f"{d}/t.json", "--n-heads",
                                   str(cfg["n_heads"]), "--backend", a.backend, "--grads", ",".join(names)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        ours = load_file(f"{d}/out.safetensors")

    rows, zero_rows = [], []
    global_max = max(float(g.abs().max()) for g in ref_grads.values())
    for n in names:
        g_ref, g_our = ref_grads[n].float(), ours[f"grad.{n}"].float()
        if n.endswith("k_proj.bias"):
            # exactly 0: softmax over keys is invariant to a bias added to every key (q.(k+b) = q.k + q.b)
            zero_rows.append({"tensor": n, "torch_abs": float(g_ref.abs().max()) / global_max,
                              "detrlab_abs": float(g_our.abs().max()) / global_max})
            continue
        scale = float(g_ref.abs().max()) or 1.0
        row = {"tensor": n, "max_abs": scale, "rel_err": float((g_our - g_ref).abs().max()) / scale}
        if truth is not None:
            g_t = truth[n].float()
            st = float(g_t.abs().max()) or 1.0
            row["detrlab_vs_f64"] = float((g_our - g_t).abs().max()) / st
            row["torch32_vs_f64"] = float((g_ref - g_t).abs().max()) / st
        rows.append(row)
    rows.sort(key=lambda r: -r["rel_err"])
    loss_rows = {k: (v, float(ours[k])) for k, v in ref_losses.items() if k in ours}
    print(f"preset {a.preset}, backend {a.backend}, batch 2 at {h}x{w} (image 2 padded), torch {torch.__version__}, "
          f"frozen BN calibrated on the batch (seed {a.seed})")
    print(f"{'loss':<14}{'torch':>14}{'detrlab':>14}{'rel diff':>12}")
    for k, (t, o) in sorted(loss_rows.items()):
        print(f"{k:<14}{t:>14.7f}{o:>14.7f}{abs(t - o) / max(abs(t), 1e-12):>12.2e}")
    print(f"\n{len(rows)} trainable tensors (+{len(zero_rows)} key biases whose exact gradient is 0: largest |g| "
          f"{max(r['detrlab_abs'] for r in zero_rows):.1e} detrlab, {max(r['torch_abs'] for r in zero_rows):.1e} torch, "
          f"of the largest gradient); worst 12 by max|detrlab - torch| / max|torch|:")
    hdr = f"{'tensor':<64}{'vs torch':>10}" + (f"{'ours-f64':>10}{'torch-f64':>10}" if truth else "")
    print(hdr)
    for r in rows[:12]:
        extra = f"{r['detrlab_vs_f64']:>10.2e}{r['torch32_vs_f64']:>10.2e}" if truth else ""
        print(f"{r['tensor']:<64}{r['rel_err']:>10.2e}{extra}")
    worst = rows[0]["rel_err"]
    summary = {"preset": a.preset, "backend": a.backend, "seed": a.seed, "tensors": len(rows),
               "worst_grad_rel_err_vs_torch32": worst, "median_grad_rel_err_vs_torch32": float(np.median([r["rel_err"] for r in rows]))}
    print(f"\nvs PyTorch float32: worst {worst:.2e} ({rows[0]['tensor']}), median {summary['median_grad_rel_err_vs_torch32']:.2e}")
    if truth is not None:
        ours_f64 = [r["detrlab_vs_f64"] for r in rows]
        torch_f64 = [r["torch32_vs_f64"] for r in rows]
        closer = sum(o <= t * 1.0001 for o, t in zip(ours_f64, torch_f64))
        summary |= {"worst_detrlab_vs_f64": max(ours_f64), "worst_torch32_vs_f64": max(torch_f64),
                    "median_detrlab_vs_f64": float(np.median(ours_f64)), "median_torch32_vs_f64": float(np.median(torch_f64)),
                    "detrlab_at_least_as_close": closer}
        print(f"vs the float64 gradient: detrlab worst {max(ours_f64):.2e} median {np.median(ours_f64):.2e}; "
              f"PyTorch float32 worst {max(torch_f64):.2e} median {np.median(torch_f64):.2e}; "
              f"detrlab at least as close on {closer}/{len(rows)} tensors")
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(summary | {"losses": {k: {"torch": t, "detrlab": o} for k, (t, o) in loss_rows.items()},
                             "rows": rows, "zero_rows": zero_rows}, f, indent=1)


if __name__ == "__main__":
    main()
