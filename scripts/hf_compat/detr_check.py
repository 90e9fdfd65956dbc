"""Checks detrlab checkpoints against Hugging Face transformers (run by tests/interop/transformers.test.ts).

  detr_check.py load DIR INPUTS OUT
      DetrForObjectDetection.from_pretrained(DIR) offline, exactly as written; prints the loading info as
      JSON (missing / unexpected / mismatched keys) and writes logits + pred_boxes on INPUTS to OUT.
  detr_check.py save KIND DIR INPUTS OUT
      builds a transformers DETR (random weights, random frozen-BN statistics) with a backbone_config of
      KIND, save_pretrained(DIR), and writes its logits + pred_boxes on INPUTS to OUT (the reverse direction).

INPUTS: safetensors with pixel_values [B,3,H,W] f32 and pixel_mask [B,H,W] (1 = real pixel).
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import DetrConfig, DetrForObjectDetection, ResNetConfig, TimmBackboneConfig  # noqa: E402

SMALL = dict(d_model=64, encoder_layers=1, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
             encoder_ffn_dim=96, decoder_ffn_dim=96, num_queries=7, num_labels=3)
BACKBONES = {
    # transformers' own ResNet: basic blocks, stem 16, 3 stages (a width timm has no name for)
    "resnet-basic-16x3": lambda: ResNetConfig(embedding_size=16, hidden_sizes=[16, 32, 64], depths=[2, 2, 2],
                                              layer_type="basic", out_features=["stage3"]),
    # transformers' own ResNet: bottleneck blocks as in ResNet-50, stem 8, 4 stages
    "resnet-bottleneck-8x4": lambda: ResNetConfig(embedding_size=8, hidden_sizes=[32, 64, 128, 256],
                                                  depths=[3, 4, 6, 3], layer_type="bottleneck",
                                                  out_features=["stage4"]),
    # timm's ResNet-18 cut after layer3
    "timm-resnet18x3": lambda: TimmBackboneConfig(backbone="resnet18", out_indices=[1, 2, 3]),
}


def predict(model, inputs_file, out_file):
    x = load_file(inputs_file)
    model.eval()
    with torch.no_grad():
        o = model(pixel_values=x["pixel_values"].float(), pixel_mask=x["pixel_mask"].long())
    save_file({"logits": o.logits.contiguous(), "pred_boxes": o.pred_boxes.contiguous()}, out_file)


def load(directory, inputs_file, out_file):
    model, info = DetrForObjectDetection.from_pretrained(directory, output_loading_info=True)
    report = {k: sorted(map(str, v)) for k, v in info.items() if isinstance(v, (list, set, tuple))}
    report["backbone_config"] = model.config.backbone_config.to_dict()
    report["auxiliary_loss"] = model.config.auxiliary_loss
    print(json.dumps(report))
    predict(model, inputs_file, out_file)


def save(kind, directory, inputs_file, out_file):
    torch.manual_seed(0)
    model = DetrForObjectDetection(DetrConfig(backbone_config=BACKBONES[kind](), **SMALL))
    with torch.no_grad():  # frozen BN (all buffers in DetrFrozenBatchNorm2d) not at identity, so a misplaced tensor shows
        for name, buf in model.named_buffers():
            if name.endswith(("running_var", ".weight")):
                buf.uniform_(0.5, 1.5)
            elif name.endswith(("running_mean", ".bias")):
                buf.normal_(0, 0.1)
    model.save_pretrained(directory)
    predict(model, inputs_file, out_file)


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(*sys.argv[2:5])
    elif sys.argv[1] == "save":
        save(*sys.argv[2:6])
    else:
        sys.exit(f"unknown mode {sys.argv[1]}")
