"""
Design experiments for the demo detector, in PyTorch (facebookresearch/detr's model and loss, bench/reference/
detr_torch.py), which runs several times faster than detrlab on 2 CPU cores: what makes DETR learn on the demo
dataset within a CPU budget. Every figure that decided the demo's design (models/detr-demo/README.md) came from
this script, then was confirmed with detrlab itself.

    DETR_SRC=path/to/detr python bench/reference/detr_train_demo.py --data data/demo --steps 1500 \
        [--backbone bn|nobn|scratch] [--groups 1] [--lr 1e-4] [--lr-backbone 1e-5] [--batch 16]

--backbone bn: the ResNet is first trained by classification of 64-px GT crops of the 20 classes with batch norm
in train mode (the demo's "ImageNet"), then its batch norms are frozen with the learned statistics, as DETR
freezes a pre-trained ResNet; nobn: the same pre-training with identity batch norm (what models/detr-demo had);
scratch: no pre-training. --groups K: Group-DETR (K query groups, one-to-one matching within each group, self
attention within a group; training only — evaluation uses the first group). Evaluates mAP / mAP50 on val with
pycocotools every --eval-every steps and prints one line per evaluation.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from detr_torch import ResNetBody, build, import_detr  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
DEMO = dict(d_model=128, n_heads=4, enc_layers=2, dec_layers=2, ffn_dim=512, num_queries=25, depth=18, width=32,
            num_stages=3, trainable_from="all", dropout=0.1)


def load_split(root: str, split: str):
    from PIL import Image
    ann = json.load(open(f"{root}/annotations/instances_{split}2017.json"))
    cats = sorted(c["id"] for c in ann["categories"])
    cat2label = {c: i for i, c in enumerate(cats)}
    by_img = {}
    for a in ann["annotations"]:
        by_img.setdefault(a["image_id"], []).append(a)
    items = []
    for im in ann["images"]:
        x = torch.from_numpy(np.asarray(Image.open(f"{root}/images/{split}2017/{im['file_name']}").convert("RGB")).copy())
        objs = [a for a in by_img.get(im["id"], []) if not a["iscrowd"]]  # datasets/coco.py drops crowd boxes
        w, h = im["width"], im["height"]
        boxes = torch.tensor([[(a["bbox"][0] + a["bbox"][2] / 2) / w, (a["bbox"][1] + a["bbox"][3] / 2) / h,
                               a["bbox"][2] / w, a["bbox"][3] / h] for a in objs], dtype=torch.float32).reshape(-1, 4)
        labels = torch.tensor([cat2label[a["category_id"]] for a in objs], dtype=torch.int64)
        items.append({"id": im["id"], "img": x.permute(2, 0, 1).contiguous(), "boxes": boxes, "labels": labels,
                      "anns": objs, "size": (h, w)})
    return items, cats, ann


def to_batch(items, flip_rng=None):
    from util.misc import NestedTensor
    H = max(it["img"].shape[1] for it in items)
    W = max(it["img"].shape[2] for it in items)
    x = torch.zeros(len(items), 3, H, W)
    mask = torch.ones(len(items), H, W, dtype=torch.bool)
    targets = []
    for i, it in enumerate(items):
        img = (it["img"].float() / 255 - MEAN) / STD
        boxes = it["boxes"].clone()
        if flip_rng is not None and flip_rng.random() < 0.5:
            img = img.flip(-1)
            boxes[:, 0] = 1 - boxes[:, 0]
        h, w = img.shape[1:]
        x[i, :, :h, :w] = img
        mask[i, :h, :w] = False
        # boxes stay normalised by the image's own size (datasets/transforms.py Normalize runs before padding)
        targets.append({"labels": it["labels"], "boxes": boxes})
    return NestedTensor(x, mask), targets


def crops_dataset(items, size=64):
    xs, ys = [], []
    for it in items:
        h, w = it["size"]
        for a, lab in zip(it["anns"], it["labels"].tolist()):
            x0, y0, bw, bh = a["bbox"]
            s = max(bw, bh) * 1.15
            cx, cy = x0 + bw / 2, y0 + bh / 2
            box = [int(max(0, cx - s / 2)), int(max(0, cy - s / 2)), int(min(w, cx + s / 2)), int(min(h, cy + s / 2))]
            if box[2] - box[0] < 4 or box[3] - box[1] < 4:
                continue
            c = it["img"][:, box[1]:box[3], box[0]:box[2]].float() / 255
            xs.append(F.interpolate(c[None], size=(size, size), mode="bilinear", align_corners=False)[0])
            ys.append(lab)
    return torch.stack(xs), torch.tensor(ys)


class FreezableBN(nn.BatchNorm2d):
    pass


def pretrain_backbone(items, num_classes, steps, mode, seed):
    """Classification of GT crops; returns the ResNetBody with frozen-BN-compatible state."""
    torch.manual_seed(seed)
    xs, ys = crops_dataset(items)
    norm = nn.BatchNorm2d if mode == "bn" else (lambda c: nn.Identity())
    body = ResNetBody(DEMO["depth"], DEMO["width"], DEMO["num_stages"], norm)
    head = nn.Linear(body.num_channels, num_classes)
    params = list(body.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    g = torch.Generator().manual_seed(seed)
    t0 = time.time()
    for s in range(steps):
        idx = torch.randint(0, len(xs), (64,), generator=g)
        x = xs[idx]
        flip = torch.rand(64, generator=g) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        x = (x - MEAN) / STD
        logits = head(body(x).mean(dim=(2, 3)))
        loss = F.cross_entropy(logits, ys[idx])
        opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        if (s + 1) % 100 == 0 or s == steps - 1:
            acc = (logits.argmax(1) == ys[idx]).float().mean()
            print(f"  backbone pretrain step {s + 1}/{steps} loss {loss.item():.3f} acc {acc:.2f} ({time.time() - t0:.0f}s)", flush=True)
    return body


def load_body_into(model, body, frozen_bn_cls):
    sd = body.state_dict()
    own = model.backbone[0].body
    out = {}
    for k, v in own.state_dict().items():
        if k in sd:
            out[k] = sd[k]
        elif k.endswith(("running_mean", "bias")):
            out[k] = torch.zeros_like(v)
        else:
            out[k] = torch.ones_like(v)  # weight / running_var of identity BN
    own.load_state_dict(out)


@torch.no_grad()
def evaluate(model, items, ann, cats, max_images=400, num_queries=25):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    import contextlib, io
    model.eval()
    dets = []
    for i in range(0, min(len(items), max_images), 16):
        chunk = items[i:i + 16]
        nt, _ = to_batch(chunk)
        out = model(nt)
        prob = out["pred_logits"][:, :num_queries].softmax(-1)[..., :-1]
        scores, labels = prob.max(-1)
        boxes = out["pred_boxes"][:, :num_queries]
        for b, it in enumerate(chunk):
            h, w = it["size"]
            for q in range(num_queries):  # models/detr.py PostProcess: scaled by the image's own size
                cx, cy, bw, bh = boxes[b, q].tolist()
                cx, bw = cx * w, bw * w
                cy, bh = cy * h, bh * h
                dets.append({"image_id": it["id"], "category_id": cats[int(labels[b, q])], "score": float(scores[b, q]),
                             "bbox": [cx - bw / 2, cy - bh / 2, bw, bh]})
    model.train()
    gt = COCO()
    sub = dict(ann)
    ids = {it["id"] for it in items[:max_images]}
    sub["images"] = [im for im in ann["images"] if im["id"] in ids]
    sub["annotations"] = [a for a in ann["annotations"] if a["image_id"] in ids]
    gt.dataset = sub
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt = gt.loadRes(dets)
        E = COCOeval(gt, dt, "bbox")
        E.evaluate(); E.accumulate(); E.summarize()
    return E.stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/demo")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--lr-backbone", type=float, default=1e-5)
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--backbone", choices=["bn", "nobn", "scratch"], default="bn")
    ap.add_argument("--backbone-steps", type=int, default=600)
    ap.add_argument("--groups", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    detr = import_detr()
    torch.manual_seed(a.seed)
    train, cats, _ = load_split(a.data, "train")
    val, _, val_ann = load_split(a.data, "val")
    print(f"{a.data}: {len(train)} train / {len(val)} val images, {len(cats)} classes; {vars(a)}", flush=True)
    cfg = dict(DEMO, num_classes=len(cats), num_queries=DEMO["num_queries"] * a.groups)
    model, criterion = build(cfg, detr)
    if a.groups > 1:
        install_groups(model, criterion, a.groups, DEMO["num_queries"])
    if a.backbone != "scratch":
        body = pretrain_backbone(train, len(cats), a.backbone_steps, a.backbone, a.seed)
        if a.backbone == "bn":
            body.eval()
        load_body_into(model, body, detr["FrozenBatchNorm2d"])
    groups = [{"params": [p for n, p in model.named_parameters() if "backbone" not in n], "lr": a.lr},
              {"params": [p for n, p in model.named_parameters() if "backbone" in n], "lr": a.lr_backbone}]
    opt = torch.optim.AdamW(groups, lr=a.lr, weight_decay=1e-4)
    base = [g["lr"] for g in opt.param_groups]
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    history = []
    order = rng.permutation(len(train))
    pos = 0
    for step in range(1, a.steps + 1):
        if pos + a.batch > len(order):
            order, pos = rng.permutation(len(train)), 0
        chunk = [train[i] for i in order[pos:pos + a.batch]]
        pos += a.batch
        nt, targets = to_batch(chunk, rng)
        f = min(1.0, step / a.warmup) if a.warmup else 1.0
        for g, b in zip(opt.param_groups, base):
            g["lr"] = b * f
        out = model(nt)
        losses = criterion(out, targets)
        total = sum(losses[k] * criterion.weight_dict[k] for k in losses if k in criterion.weight_dict)
        opt.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        if step % 50 == 0:
            print(f"step {step} loss {total.item():.3f} ce {losses['loss_ce'].item():.3f} bbox {losses['loss_bbox'].item():.3f} "
                  f"giou {losses['loss_giou'].item():.3f} ({(time.time() - t0) / step:.2f} s/step)", flush=True)
        if step % a.eval_every == 0 or step == a.steps:
            st = evaluate(model, val, val_ann, cats, num_queries=DEMO["num_queries"])
            history.append({"step": step, "mAP": st[0], "mAP50": st[1], "AR100": st[8], "s": time.time() - t0})
            print(f"EVAL step {step}: mAP {st[0]:.4f} mAP50 {st[1]:.4f} AR@100 {st[8]:.4f} ({time.time() - t0:.0f}s)", flush=True)
    if a.out:
        json.dump({"args": vars(a), "history": history}, open(a.out, "w"), indent=1)


def install_groups(model, criterion, k, nq):
    """Group DETR (Chen et al. 2022): K groups of nq queries; decoder self-attention masked to within a group;
    the criterion matches each group one-to-one with the targets and sums the groups' losses."""
    dec = model.transformer.decoder
    group_of = torch.arange(k * nq) // nq
    attn_mask = group_of[:, None] != group_of[None, :]
    for layer in dec.layers:
        orig = layer.forward_post

        def fwd(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, pos=None, query_pos=None, _orig=orig):
            m = attn_mask  # kept at evaluation too: the first group then is a plain DETR of nq queries
            return _orig(tgt, memory, m, memory_mask, tgt_key_padding_mask, memory_key_padding_mask, pos, query_pos)
        layer.forward_post = fwd
    base_forward = criterion.forward

    def crit(outputs, targets):
        total = {}
        for g in range(k):
            sl = slice(g * nq, (g + 1) * nq)
            og = {"pred_logits": outputs["pred_logits"][:, sl], "pred_boxes": outputs["pred_boxes"][:, sl],
                  "aux_outputs": [{kk: v[:, sl] for kk, v in ao.items()} for ao in outputs.get("aux_outputs", [])]}
            for kk, v in base_forward(og, targets).items():
                total[kk] = total.get(kk, 0) + v
        return total
    criterion.forward = crit


if __name__ == "__main__":
    main()
