#!/usr/bin/python3
"""Reference CAMs on a tiny vision transformer (test/fixtures/vit-cam), for test/explain/vit-cam.test.ts.

torchvision's own VisionTransformer class (the one vit_b_16 is made of) at a tiny size: 32x32
images in patches of 8 (a 4x4 grid after the class token), 2 blocks of width 16 with 2 heads,
10 classes, random weights from a fixed seed. Exported to ONNX as vit_b_16 is (torch.onnx.export,
opset 14, a free batch axis), with two smooth random images.

pytorch-grad-cam cannot be installed here, so its ViT recipe is written out in PyTorch from its
source (base_cam.py, grad_cam.py, grad_cam_plusplus.py, xgrad_cam.py, layer_cam.py, hirescam.py,
eigen_cam.py, eigen_grad_cam.py, ablation_cam.py, ablation_layer.py, utils/svd_on_activations.py,
utils/reshape_transforms.py), in float64 (the model cast to double): the target layer is the last
block's first LayerNorm (encoder.layers[-1].ln_1, its blocks[-1].norm1), activations and their
gradients go through vit_reshape_transform (class token dropped, the 16 tokens reshaped to 4x4,
channels first), and each map is BaseCAM.compute_cam_per_layer's before scaling: the layer's 4x4
map after np.maximum(cam, 0).

Run with Debian's PyTorch: /usr/bin/python3 scripts/reference-vit-cam.py [out-dir]
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.vision_transformer import VisionTransformer

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'vit-cam')
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
SIZE, PATCH, GRID = 32, 8, 4
torch.manual_seed(23)


def tiny_vit():
    m = VisionTransformer(image_size=SIZE, patch_size=PATCH, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=10)
    with torch.no_grad():
        # torchvision starts the class token and the head at zeros: every logit would be the bias
        nn.init.normal_(m.class_token, std=1.0)
        nn.init.normal_(m.encoder.pos_embedding, std=0.5)
        for mod in m.modules():
            if isinstance(mod, nn.LayerNorm):
                nn.init.uniform_(mod.weight, 0.5, 1.5)
                nn.init.uniform_(mod.bias, -0.2, 0.2)
            elif isinstance(mod, nn.Linear):
                nn.init.normal_(mod.weight, std=1 / mod.in_features ** 0.5)
                nn.init.uniform_(mod.bias, -0.1, 0.1)
            elif isinstance(mod, nn.MultiheadAttention):
                nn.init.normal_(mod.in_proj_weight, std=1 / mod.embed_dim ** 0.5)
                nn.init.uniform_(mod.in_proj_bias, -0.1, 0.1)
    return m.eval()


def images(n):
    """Smooth random images in [0, 1] (a few low-frequency waves per channel), normalized."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, SIZE), torch.linspace(0, 1, SIZE), indexing='ij')
    out = torch.zeros(n, 3, SIZE, SIZE)
    for i in range(n):
        for c in range(3):
            v = torch.zeros(SIZE, SIZE)
            for _ in range(3):
                fx, fy, ph = torch.rand(3) * torch.tensor([6.0, 6.0, 6.28])
                v += torch.sin(fx * xx * 3.14 + fy * yy * 3.14 + ph)
            out[i, c] = (v - v.min()) / (v.max() - v.min())
    return (out - torch.tensor(MEAN)[None, :, None, None]) / torch.tensor(STD)[None, :, None, None]


def export(model, path):
    """The ONNX file (no metadata: ConvLens' defaults; the inputs are given in the model's space)."""
    torch.onnx.export(model, torch.zeros(1, 3, SIZE, SIZE), path, input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, opset_version=14)
    # pytorch-grad-cam's target layer, by its module path (ConvLens' --layer takes it)
    return f'encoder/layers/encoder_layer_{len(model.encoder.layers) - 1}/ln_1'


def vit_reshape_transform(t):
    return t[:, 1:, :].reshape(t.size(0), GRID, GRID, t.size(2)).transpose(2, 3).transpose(1, 2)


def activations_and_grads(model, layer, x, target):
    store = {}

    def hook(m, i, o):
        store['a'] = o
        o.register_hook(lambda g: store.__setitem__('g', g))
    h = layer.register_forward_hook(hook)
    out = model(x)
    h.remove()
    sum(out[i, t] for i, t in enumerate(target)).backward()
    return store['a'].detach(), store['g'].detach(), out.detach()


def get_2d_projection(batch):
    """get_2d_projection, the component's sign chosen so the projection correlates positively
    with the channel-mean map, or where that map is flat so its largest |value| is positive
    (pytorch-grad-cam keeps the SVD's sign; ConvLens orients it so)."""
    out = []
    for a in batch:
        m = a.reshape(a.shape[0], -1).transpose()
        mean_map = m.mean(axis=1)
        m = m - m.mean(axis=0)
        _, _, vt = np.linalg.svd(m, full_matrices=True)
        p = m @ vt[0, :]
        if mean_map.max() - mean_map.min() > 1e-5 * np.abs(a).max():
            if np.corrcoef(p, mean_map)[0, 1] < 0:
                p = -p
        elif p[np.argmax(np.abs(p))] < 0:  # a flat mean map: the largest value made positive
            p = -p
        out.append(p.reshape(a.shape[1:]))
    return np.array(out)


def cam(kind, a, g):
    if kind == 'gradcam':
        w = g.mean(axis=(2, 3))
    elif kind == 'gradcam++':
        g2 = g ** 2
        aij = g2 / (2 * g2 + a.sum(axis=(2, 3))[:, :, None, None] * g2 * g + 0.000001)
        aij = np.where(g != 0, aij, 0)
        w = (np.maximum(g, 0) * aij).sum(axis=(2, 3))
    elif kind == 'xgradcam':
        w = (g * a / (a.sum(axis=(2, 3))[:, :, None, None] + 1e-7)).sum(axis=(2, 3))
    elif kind == 'layercam':
        return (np.maximum(g, 0) * a).sum(axis=1)
    elif kind == 'hirescam':
        return (g * a).sum(axis=1)
    elif kind == 'eigencam':
        return get_2d_projection(a)
    elif kind == 'eigengradcam':
        return get_2d_projection(g * a)
    else:
        raise ValueError(kind)
    return (w[:, :, None, None] * a).sum(axis=1)


def ablation_cam(model, layer, x, target, tokens, original):
    """AblationCAM with AblationLayerVit: channel k set in every token (the class token too) to
    0 when the image's smallest activation is 0, else to that minimum - 1e7. (AblationLayerVit
    lowers it by another 1e7 for each copy of a batch it has already ablated, as it reads the
    minimum of the batch it is writing; ConvLens takes each image's minimum once, as pytorch-grad-cam's
    AblationLayer for maps does per image.)"""
    n, _, k = tokens.shape
    weights = np.zeros((n, k))
    for i in range(n):
        low = tokens[i].min()
        value = 0.0 if low == 0 else low - 1e7
        for ch in range(k):
            def replace(m, inp, o, i=i, ch=ch):
                r = tokens[i:i + 1].clone()
                r[0, :, ch] = value
                return r
            h = layer.register_forward_hook(replace)
            with torch.no_grad():
                s = model(x[i:i + 1])[0, target[i]].item()
            h.remove()
            weights[i, ch] = (original[i] - s) / original[i]
    a = vit_reshape_transform(tokens).numpy()
    return (weights[:, :, None, None] * a).sum(axis=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    model = tiny_vit()
    x = images(2)
    layer_path = export(model, os.path.join(OUT, 'model.onnx'))
    np.save(os.path.join(OUT, 'input.npy'), x.numpy().astype(np.float32))
    with torch.no_grad():
        target = model(x).argmax(1).tolist()
    double = model.double()
    xd = x.double()
    layer = double.encoder.layers[-1].ln_1
    tokens, grads, out = activations_and_grads(double, layer, xd, target)
    a, g = vit_reshape_transform(tokens).numpy(), vit_reshape_transform(grads).numpy()
    kinds = ['gradcam', 'gradcam++', 'xgradcam', 'layercam', 'hirescam', 'eigencam', 'eigengradcam']
    for kind in kinds:
        np.save(os.path.join(OUT, f'{kind}.npy'), np.maximum(cam(kind, a, g), 0))
    original = out[torch.arange(2), target].numpy()
    np.save(os.path.join(OUT, 'ablationcam.npy'), np.maximum(ablation_cam(double, layer, xd, target, tokens, original), 0))
    manifest = {'layer': layer_path, 'grid': [GRID, GRID], 'classToken': 1, 'targets': target, 'torch': torch.__version__}
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    print(json.dumps(manifest))


main()
