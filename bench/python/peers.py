#!/usr/bin/env python3
"""The PyTorch side of bench/peers.bench.ts: attribution methods as Captum and pytorch-grad-cam
compute them, on a torchvision ResNet-18 with the same (random, seeded) weights that ConvLens runs
from ONNX.

Captum and pytorch-grad-cam are not installable here (no PyPI), so each method below is a plain
PyTorch transcription of what those libraries do for it (read from their source):

  saliency              Captum Saliency(abs=True): one forward, torch.autograd.grad of the selected
                        target logits w.r.t. the input, |grad|.
  gradcam               Captum LayerGradCam(relu_attributions=True): a forward hook keeps the layer
                        output, torch.autograd.grad w.r.t. it only (the backward stops at the
                        layer), weights = spatial mean of the gradient, ReLU(sum_k w_k A_k), then
                        LayerAttribution.interpolate (bilinear) to the input size.
  gradcam-pgc           pytorch-grad-cam GradCAM: hooks keep activation and gradient, then
                        model.zero_grad() and loss.backward() through the whole network (parameter
                        gradients included), numpy CAM, min-max scaling and resize per image.
  integrated-gradients  Captum IntegratedGradients: Gauss-Legendre points (numpy leggauss), the
                        scaled inputs of all steps batched with internal_batch_size rows per
                        forward/backward, gradients weighted by the step sizes, times (x - baseline).
  occlusion             Captum Occlusion (FeatureAblation): forward under no_grad, windows applied as
                        x * (1 - mask) + baseline * mask, perturbations_per_eval windows per forward,
                        score drops accumulated per window and divided by the window count.

Usage (bench/peers.bench.ts runs these; each `run` is one whole process, as a user's script is):
  python3 peers.py export --dir DIR [--seed 0] [--images K]
  python3 peers.py run --dir DIR --method saliency --images K [--threads 2] [--batch 16] [--target 1]
"""
import argparse
import json
import os
import sys
import time

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402

T_IMPORTED = time.perf_counter()


def build_model(seed):
    torch.manual_seed(seed)
    model = torchvision.models.resnet18(weights=None)
    # Random BatchNorm statistics, so the normalization is not the identity it is at init.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    return model.eval()


def smooth_images(k, size, seed):
    """Sums of low-frequency waves plus a little noise: image-like inputs in normalized range."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    out = np.empty((k, 3, size, size), np.float32)
    for i in range(k):
        for c in range(3):
            fx, fy, ph = rng.uniform(0, 0.1), rng.uniform(0, 0.1), rng.uniform(0, 6.28)
            amp = rng.uniform(0.5, 1.5)
            out[i, c] = amp * np.sin(fx * xx + fy * yy + ph) + 0.2 * (rng.random((size, size)) - 0.5)
    return out


def export(args):
    os.makedirs(args.dir, exist_ok=True)
    model = build_model(args.seed)
    torch.save(model.state_dict(), os.path.join(args.dir, 'resnet18.pt'))
    x = torch.zeros(1, 3, 224, 224)
    torch.onnx.export(model, x, os.path.join(args.dir, 'resnet18.onnx'), input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, opset_version=17, do_constant_folding=True)
    np.save(os.path.join(args.dir, 'x.npy'), smooth_images(args.images, 224, args.seed + 1))
    print(json.dumps({'torch': torch.__version__, 'torchvision': torchvision.__version__}))


def select(logits, target):
    return logits.gather(1, target.view(-1, 1)).squeeze(1)


def saliency(model, x, target, batch):
    out = []
    for s in range(0, len(x), batch):
        xb = x[s:s + batch].clone().requires_grad_()
        (grad,) = torch.autograd.grad(torch.unbind(select(model(xb), target[s:s + batch])), xb)
        out.append(grad.abs())
    return torch.cat(out)


def layer_grad_cam(model, layer, x, target, batch):
    maps = []
    for s in range(0, len(x), batch):
        saved = {}
        handle = layer.register_forward_hook(lambda m, i, o: saved.__setitem__('a', o))
        try:
            logits = model(x[s:s + batch])
        finally:
            handle.remove()
        a = saved['a']
        (g,) = torch.autograd.grad(torch.unbind(select(logits, target[s:s + batch])), a)
        weights = g.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * a).sum(dim=1, keepdim=True))
        maps.append(F.interpolate(cam.detach(), size=x.shape[2:], mode='bilinear'))
    return torch.cat(maps)


def pytorch_grad_cam(model, layer, x, target, batch):
    maps = []
    for s in range(0, len(x), batch):
        store = {}

        def keep(m, i, o):
            store['a'] = o.detach()
            o.register_hook(lambda g: store.__setitem__('g', g.detach()))

        handle = layer.register_forward_hook(keep)
        try:
            outputs = model(x[s:s + batch])
            model.zero_grad()
            loss = sum(o[int(t)] for o, t in zip(outputs, target[s:s + batch]))
            loss.backward(retain_graph=True)
        finally:
            handle.remove()
        a, g = store['a'].numpy(), store['g'].numpy()
        weights = g.mean(axis=(2, 3))
        cam = np.maximum((weights[:, :, None, None] * a).sum(axis=1), 0)
        lo = cam.min(axis=(1, 2), keepdims=True)
        cam = (cam - lo) / (1e-7 + cam.max(axis=(1, 2), keepdims=True) - lo)
        maps.append(F.interpolate(torch.from_numpy(cam)[:, None], size=x.shape[2:], mode='bilinear').numpy())
    return torch.from_numpy(np.concatenate(maps))


def integrated_gradients(model, x, target, batch, steps):
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas = [float(a) for a in 0.5 * (nodes + 1)]
    step_sizes = [float(w) for w in 0.5 * weights]
    baseline = torch.zeros_like(x)
    k = len(x)
    per_chunk = max(1, batch // k)
    total = torch.zeros_like(x)
    for s in range(0, steps, per_chunk):
        chunk = alphas[s:s + per_chunk]
        scaled = torch.cat([baseline + a * (x - baseline) for a in chunk]).requires_grad_()
        (grads,) = torch.autograd.grad(torch.unbind(select(model(scaled), target.repeat(len(chunk)))), scaled)
        sizes = torch.tensor(step_sizes[s:s + per_chunk]).repeat_interleave(k).view(-1, 1, 1, 1)
        total += (grads * sizes).view(len(chunk), k, *x.shape[1:]).sum(0)
    return total * (x - baseline)


def occlusion(model, x, target, per_eval, window, stride):
    k, c, h, w = x.shape
    positions = [(i, j) for i in range(0, h - window + 1, stride) for j in range(0, w - window + 1, stride)]
    with torch.no_grad():
        initial = select(model(x), target)
        total = torch.zeros_like(x)
        counts = torch.zeros_like(x)
        for s in range(0, len(positions), per_eval):
            chunk = positions[s:s + per_eval]
            mask = torch.zeros(len(chunk), 1, c, h, w)
            for n, (i, j) in enumerate(chunk):
                mask[n, :, :, i:i + window, j:j + window] = 1
            ablated = (x.unsqueeze(0) * (1 - mask)).reshape(-1, c, h, w)
            diff = initial.unsqueeze(0) - select(model(ablated), target.repeat(len(chunk))).view(len(chunk), k)
            total += (diff.view(len(chunk), k, 1, 1, 1) * mask).sum(0)
            counts += mask.sum(0)
    return total / counts


def run(args):
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    model = build_model(0)
    model.load_state_dict(torch.load(os.path.join(args.dir, 'resnet18.pt')))
    model.eval()
    x = torch.from_numpy(np.load(os.path.join(args.dir, 'x.npy'))[:args.images].copy())
    target = torch.full((len(x),), args.target, dtype=torch.long)
    t0 = time.perf_counter()
    if args.method == 'saliency':
        result = saliency(model, x, target, args.batch)
    elif args.method == 'gradcam':
        result = layer_grad_cam(model, model.layer4, x, target, args.batch)
    elif args.method == 'gradcam-pgc':
        result = pytorch_grad_cam(model, model.layer4, x, target, args.batch)
    elif args.method == 'integrated-gradients':
        result = integrated_gradients(model, x, target, args.batch, args.steps)
    elif args.method == 'occlusion':
        result = occlusion(model, x, target, args.batch, args.window, args.stride)
    else:
        sys.exit(f'unknown method {args.method}')
    t1 = time.perf_counter()
    if args.save:
        np.save(args.save, result.detach().numpy())
    print(json.dumps({'method': args.method, 'images': len(x), 'threads': args.threads, 'import_s': T_IMPORTED - T_START,
                      'setup_s': t0 - T_IMPORTED, 'compute_s': t1 - t0}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    e = sub.add_parser('export')
    e.add_argument('--dir', required=True)
    e.add_argument('--seed', type=int, default=0)
    e.add_argument('--images', type=int, default=64)
    r = sub.add_parser('run')
    r.add_argument('--dir', required=True)
    r.add_argument('--method', required=True)
    r.add_argument('--images', type=int, default=16)
    r.add_argument('--threads', type=int, default=2)
    r.add_argument('--batch', type=int, default=16)
    r.add_argument('--target', type=int, default=1)
    r.add_argument('--steps', type=int, default=50)
    r.add_argument('--window', type=int, default=16)
    r.add_argument('--stride', type=int, default=8)
    r.add_argument('--save')
    args = p.parse_args()
    (export if args.cmd == 'export' else run)(args)


if __name__ == '__main__':
    main()
