"""
PyTorch reference for detrlab's DETR: builds facebookresearch/detr's model (models/detr.py DETR + SetCriterion,
models/transformer.py, models/matcher.py HungarianMatcher, models/position_encoding.py PositionEmbeddingSine,
models/backbone.py FrozenBatchNorm2d) around a torchvision ResNet, and moves weights between it and Hugging Face
`DetrForObjectDetection` names (the names detrlab's checkpoints use).

Used by bench/reference/detr_grads.py (one padded batch: losses and every trainable gradient) and
bench/reference/detr_curves.py (the first steps of training from the same weights on fixed batches).

Needs: torch (CPU build is fine), numpy, safetensors, and a checkout of facebookresearch/detr named by the
DETR_SRC environment variable (its `models/` and `util/` packages are imported as they are).
"""
from __future__ import annotations

import os
import sys
from collections import OrderedDict

import torch
from torch import nn


def import_detr():
    src = os.environ.get("DETR_SRC")
    if not src or not os.path.isdir(os.path.join(src, "models")):
        raise SystemExit("set DETR_SRC to a checkout of facebookresearch/detr (its models/ and util/ are imported)")
    sys.path.insert(0, src)
    from models.backbone import FrozenBatchNorm2d, Joiner  # noqa: E402
    from models.detr import DETR, SetCriterion  # noqa: E402
    from models.matcher import HungarianMatcher  # noqa: E402
    from models.position_encoding import PositionEmbeddingSine  # noqa: E402
    from models.transformer import Transformer  # noqa: E402
    return dict(FrozenBatchNorm2d=FrozenBatchNorm2d, Joiner=Joiner, DETR=DETR, SetCriterion=SetCriterion,
                HungarianMatcher=HungarianMatcher, PositionEmbeddingSine=PositionEmbeddingSine, Transformer=Transformer)


STAGE_BLOCKS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}


class ResNetBody(nn.Module):
    """torchvision's ResNet (v1.5) layout, names conv1/bn1/layer1..layerN, with any stem width and stage count,
    built from torchvision's own BasicBlock / Bottleneck (torchvision.models.resnet)."""

    def __init__(self, depth: int, width: int, num_stages: int, norm_layer):
        super().__init__()
        from torchvision.models.resnet import BasicBlock, Bottleneck
        block = Bottleneck if depth >= 50 else BasicBlock
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = norm_layer(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = width
        for s in range(num_stages):
            planes = width * 2 ** s
            blocks = []
            for b in range(STAGE_BLOCKS[depth][s]):
                stride = 2 if (b == 0 and s > 0) else 1
                out = planes * block.expansion
                down = None
                if stride != 1 or inplanes != out:
                    down = nn.Sequential(nn.Conv2d(inplanes, out, 1, stride, bias=False), norm_layer(out))
                # Bottleneck's base_width scales its inner width: planes * base_width / 64 → keep planes as given
                kw = dict(base_width=64) if block is Bottleneck else {}
                blocks.append(block(inplanes, planes, stride, down, norm_layer=norm_layer, **kw))
                inplanes = out
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.num_stages = num_stages
        self.num_channels = inplanes

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for s in range(self.num_stages):
            x = getattr(self, f"layer{s + 1}")(x)
        return x


class BackboneBody(nn.Module):
    """models/backbone.py BackboneBase: the body on tensors.tensors, the mask interpolated to the feature map."""

    def __init__(self, body: ResNetBody, train_from_layer2: bool):
        super().__init__()
        for name, p in body.named_parameters():  # BackboneBase: only layer2-4 train
            if train_from_layer2 and not any(f"layer{i}" in name for i in (2, 3, 4)):
                p.requires_grad_(False)
        self.body = body
        self.num_channels = body.num_channels

    def forward(self, tensor_list):
        from util.misc import NestedTensor
        x = self.body(tensor_list.tensors)
        m = tensor_list.mask
        mask = nn.functional.interpolate(m[None].float(), size=x.shape[-2:]).to(torch.bool)[0]
        return {"0": NestedTensor(x, mask)}


def build(cfg: dict, detr) -> tuple[nn.Module, nn.Module]:
    """cfg: num_classes, d_model, n_heads, enc_layers, dec_layers, ffn_dim, num_queries, depth, width,
    num_stages, trainable_from ('layer2' | 'all'). Dropout 0 (eval-mode parity)."""
    body = ResNetBody(cfg["depth"], cfg["width"], cfg["num_stages"], detr["FrozenBatchNorm2d"])
    backbone = BackboneBody(body, cfg["trainable_from"] == "layer2")
    joiner = detr["Joiner"](backbone, detr["PositionEmbeddingSine"](cfg["d_model"] // 2, normalize=True))
    joiner.num_channels = backbone.num_channels
    transformer = detr["Transformer"](d_model=cfg["d_model"], nhead=cfg["n_heads"], num_encoder_layers=cfg["enc_layers"],
                                      num_decoder_layers=cfg["dec_layers"], dim_feedforward=cfg["ffn_dim"],
                                      dropout=cfg.get("dropout", 0.0), return_intermediate_dec=True)
    model = detr["DETR"](joiner, transformer, num_classes=cfg["num_classes"], num_queries=cfg["num_queries"],
                         aux_loss=True)
    matcher = detr["HungarianMatcher"](cost_class=1, cost_bbox=5, cost_giou=2)
    weight_dict = {"loss_ce": 1, "loss_bbox": 5, "loss_giou": 2}
    for i in range(cfg["dec_layers"] - 1):
        weight_dict.update({f"{k}_{i}": v for k, v in list(weight_dict.items())[:3]})
    criterion = detr["SetCriterion"](cfg["num_classes"], matcher, weight_dict, eos_coef=0.1,
                                     losses=["labels", "boxes", "cardinality"])
    return model, criterion


# ---- names: facebookresearch/detr state_dict <-> Hugging Face DetrForObjectDetection -------------------------

def _layer_map(prefix_hf: str, prefix_pt: str, decoder: bool) -> list[tuple[str, str]]:
    pairs = [("self_attn.out_proj", "self_attn.out_proj"), ("fc1", "linear1"), ("fc2", "linear2"),
             ("self_attn_layer_norm", "norm1")]
    if decoder:
        pairs += [("encoder_attn.out_proj", "multihead_attn.out_proj"), ("encoder_attn_layer_norm", "norm2"),
                  ("final_layer_norm", "norm3")]
    else:
        pairs += [("final_layer_norm", "norm2")]
    return [(f"{prefix_hf}.{h}", f"{prefix_pt}.{p}") for h, p in pairs]


def hf_to_pt(hf: dict[str, torch.Tensor], cfg: dict) -> OrderedDict:
    """HF tensors → facebookresearch/detr state_dict (q/k/v projections concatenated into in_proj)."""
    out = OrderedDict()
    bb = "model.backbone.conv_encoder.model."
    for k, v in hf.items():
        if k.startswith(bb):
            out["backbone.0.body." + k[len(bb):]] = v
    simple = [("model.input_projection", "input_proj"), ("model.query_position_embeddings", "query_embed"),
              ("class_labels_classifier", "class_embed"), ("model.decoder.layernorm", "transformer.decoder.norm")]
    simple += [(f"bbox_predictor.layers.{i}", f"bbox_embed.layers.{i}") for i in range(3)]
    for i in range(cfg["enc_layers"]):
        simple += _layer_map(f"model.encoder.layers.{i}", f"transformer.encoder.layers.{i}", False)
    for i in range(cfg["dec_layers"]):
        simple += _layer_map(f"model.decoder.layers.{i}", f"transformer.decoder.layers.{i}", True)
    for h, p in simple:
        for suffix in ("weight", "bias"):
            if f"{h}.{suffix}" in hf:
                out[f"{p}.{suffix}"] = hf[f"{h}.{suffix}"]
    for kind, n, attn_pt in (("encoder", cfg["enc_layers"], ["self_attn"]), ("decoder", cfg["dec_layers"], ["self_attn", "multihead_attn"])):
        for i in range(n):
            for attn_hf, a_pt in zip(["self_attn", "encoder_attn"], attn_pt):
                h = f"model.{kind}.layers.{i}.{attn_hf}"
                for suffix in ("weight", "bias"):
                    out[f"transformer.{kind}.layers.{i}.{a_pt}.in_proj_{suffix}"] = torch.cat(
                        [hf[f"{h}.{q}_proj.{suffix}"] for q in ("q", "k", "v")], 0)
    return out


def pt_grads_to_hf(model: nn.Module, cfg: dict) -> dict[str, torch.Tensor]:
    """Gradients of the trainable parameters under HF names (in_proj split back into q/k/v)."""
    named = {k: p for k, p in model.named_parameters() if p.requires_grad and p.grad is not None}
    out = {}
    for k, p in named.items():
        if k.startswith("backbone.0.body."):
            out["model.backbone.conv_encoder.model." + k[len("backbone.0.body."):]] = p.grad.clone()
    for h in _all_hf_names(cfg):
        src = _pt_source(h, cfg)
        if src is not None and src[0] in named:
            g = named[src[0]].grad
            out[h] = (g[src[1]] if src[1] is not None else g).clone()
    return out


def _all_hf_names(cfg: dict) -> list[str]:
    names = []
    for p in ("model.input_projection", "model.query_position_embeddings", "class_labels_classifier",
              "model.decoder.layernorm", *[f"bbox_predictor.layers.{i}" for i in range(3)]):
        names += [f"{p}.weight", f"{p}.bias"]
    for kind, n in (("encoder", cfg["enc_layers"]), ("decoder", cfg["dec_layers"])):
        for i in range(n):
            mods = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj", "fc1", "fc2",
                    "self_attn_layer_norm", "final_layer_norm"]
            if kind == "decoder":
                mods += ["encoder_attn.q_proj", "encoder_attn.k_proj", "encoder_attn.v_proj", "encoder_attn.out_proj",
                         "encoder_attn_layer_norm"]
            for m in mods:
                names += [f"model.{kind}.layers.{i}.{m}.weight", f"model.{kind}.layers.{i}.{m}.bias"]
    return names


def _pt_source(hf_name: str, cfg: dict):
    """(facebookresearch/detr parameter name, slice or None) that holds an HF tensor."""
    stem, suffix = hf_name.rsplit(".", 1)
    for proj, idx in (("q_proj", 0), ("k_proj", 1), ("v_proj", 2)):
        if stem.endswith(proj):
            base = stem[: -len(proj) - 1]
            kind = "encoder" if ".encoder." in base else "decoder"
            i = base.split(".layers.")[1].split(".")[0]
            attn = "self_attn" if base.endswith("self_attn") else "multihead_attn"
            d = cfg["d_model"]
            return f"transformer.{kind}.layers.{i}.{attn}.in_proj_{suffix}", slice(idx * d, (idx + 1) * d)
    mapping = hf_to_pt({hf_name: torch.zeros(1)}, {**cfg, "enc_layers": 0, "dec_layers": 0}) if not (
        ".layers." in hf_name and hf_name.startswith("model.")) else None
    if mapping:
        return next(iter(mapping)), None
    kind = "encoder" if hf_name.startswith("model.encoder") else "decoder"
    i = int(hf_name.split(".layers.")[1].split(".")[0])
    for h, p in _layer_map(f"model.{kind}.layers.{i}", f"transformer.{kind}.layers.{i}", kind == "decoder"):
        if stem == h:
            return f"{p}.{suffix}", None
    return None
