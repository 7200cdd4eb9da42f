#!/usr/bin/python3
"""Reference attributions for ConvLens' attribution tests (test/fixtures/attribution-refs).

Builds two small random-weight torchvision-style CNNs the project has not seen (a VGG-style
net, and a ResNet-style net with BatchNorm and residual blocks), exports them to ONNX and
writes the maps Captum, zennit and pytorch-grad-cam compute for them as .npy fixtures.

Captum, zennit and pytorch-grad-cam cannot be installed here, so their computations are
re-implemented in PyTorch from their source (versions in PROVENANCE.md), following their
mechanics: Captum's LRP hooks (x * grad(layer with modified weights)(R / (z + 1e-9 sign z)),
relevance times the output), Captum's DeepLift (input and baseline batched, nonlinearity
gradients replaced by (y - y_ref) / (x - x_ref), eps 1e-10), zennit's BasicHook rules
(Epsilon, Gamma, ZPlus, Flat, ZBox, Norm, Pass) with its composites and BatchNorm-merging
canonizer, and pytorch-grad-cam's BaseCAM pipeline (cv2.resize replaced by torch's bilinear
interpolation with half-pixel centers, which is what cv2.INTER_LINEAR computes).

Run with Debian's PyTorch: /usr/bin/python3 scripts/reference-attributions.py [out-dir]
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'attribution-refs')
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
SIZE = 32
torch.manual_seed(17)
np.random.seed(17)
torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------- models

class Sum(nn.Module):
    """The residual addition as a module (zennit's canonizers insert zennit.layer.Sum here)."""

    def forward(self, a, b):
        return a + b


class Block(nn.Module):
    """torchvision's BasicBlock, with one ReLU module per use and the addition as a module."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        self.add = Sum()
        self.relu2 = nn.ReLU()

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(self.add(out, identity))


class ResNetTiny(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(2, 2)
        self.layer1 = Block(8, 8)
        self.layer2 = Block(8, 16, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class VggTiny(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(16, classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def randomize(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                nn.init.uniform_(m.bias, -0.1, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.2, 0.2)
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.5)
            nn.init.uniform_(m.bias, -0.1, 0.1)
    return model.eval()


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
    return normalize(out)


def normalize(pixels):
    return (pixels - torch.tensor(MEAN)[None, :, None, None]) / torch.tensor(STD)[None, :, None, None]


BLACK = normalize(torch.zeros(1, 3, SIZE, SIZE))
LOW = torch.tensor([(0 - m) / s for m, s in zip(MEAN, STD)])[None, :, None, None]
HIGH = torch.tensor([(1 - m) / s for m, s in zip(MEAN, STD)])[None, :, None, None]


def export(model, path):
    torch.onnx.export(model, torch.zeros(1, 3, SIZE, SIZE), path, input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, opset_version=13, do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    prep = {'size': [SIZE, SIZE], 'channels': 'rgb', 'range': [0, 1], 'mean': MEAN, 'std': STD, 'resize': 'stretch'}
    for key, value in [('convlens.preprocessing', json.dumps(prep)), ('convlens.labels', json.dumps([f'class {k}' for k in range(10)]))]:
        p = m.metadata_props.add()
        p.key, p.value = key, value
    onnx.save(m, path)
    # The CAM layer: the ReLU whose output is globally average-pooled.
    producers = {o: n for n in m.graph.node for o in n.output}
    gap = next(n for n in m.graph.node if n.op_type in ('GlobalAveragePool', 'ReduceMean'))
    relu = producers[gap.input[0]]
    assert relu.op_type == 'Relu', relu.op_type
    return relu.output[0], [n.op_type for n in m.graph.node]


# ---------------------------------------------------------------- Captum DeepLift (Rescale)

def deeplift(model, x, base, target, eps=1e-10):
    """Captum's DeepLift: [x; base] in one batch, every row seeded with its target (Captum expands
    the target over both halves), the gradient of the first half. Captum's nonlinear modules get
    multipliers instead of gradients (captum.attr._core.deep_lift: SUPPORTED_NON_LINEAR):
    ReLU the rescale (y - y_ref) / (x - x_ref) where |x - x_ref| >= eps (`nonlinear`), MaxPool2d
    Captum's `maxpool` rule: the output difference is split at the cross maximum
    max(y, y_ref), the input rows route max(y, y_ref) - y_ref through their own argmax, the
    reference rows y - max(y, y_ref) through theirs, both halves get the sum, divided by
    x - x_ref (the gradient where |x - x_ref| < eps). The test nets' pools are disjoint, where
    Captum's max_unpool and a scatter-add agree."""
    store = {}
    handles = []

    def forward_hook(module, inputs, output):
        store[module] = (inputs[0].detach(), output.detach())

    def relu_backward(module, grad_input, grad_output):
        inp, out = store[module]
        half = inp.shape[0] // 2
        din = inp[:half] - inp[half:]
        dout = out[:half] - out[half:]
        din, dout = torch.cat([din, din]), torch.cat([dout, dout])
        return (torch.where(din.abs() < eps, grad_input[0], grad_output[0] * dout / din),)

    def maxpool_backward(module, grad_input, grad_output):
        inp, out = store[module]
        half = inp.shape[0] // 2
        din = inp[:half] - inp[half:]
        din = torch.cat([din, din])
        cross = torch.max(out[:half], out[half:])
        share = torch.cat([cross - out[half:], out[:half] - cross])
        _, indices = F.max_pool2d(inp, module.kernel_size, module.stride, module.padding, module.dilation, module.ceil_mode, True)
        routed = F.max_unpool2d(grad_output[0] * share, indices, module.kernel_size, module.stride, module.padding, list(inp.shape))
        total = routed[:half] + routed[half:]
        total = torch.cat([total, total])
        return (torch.where(din.abs() < eps, grad_input[0], total / din),)

    for m in model.modules():
        rule = relu_backward if isinstance(m, nn.ReLU) else maxpool_backward if isinstance(m, nn.MaxPool2d) else None
        if rule:
            handles.append(m.register_forward_hook(forward_hook))
            handles.append(m.register_full_backward_hook(rule))
    try:
        both = torch.cat([x, base]).requires_grad_(True)
        out = model(both)
        rows = torch.arange(out.shape[0])
        sel = out[rows, torch.cat([target, target])].sum()
        (g,) = torch.autograd.grad(sel, both)
    finally:
        for h in handles:
            h.remove()
    return ((x - base) * g[: x.shape[0]]).detach()


def deeplift_shap(model, x, baselines, target):
    """Captum's DeepLiftShap: DeepLift of every (input, baseline) pair, averaged over the baselines."""
    k = baselines.shape[0]
    xs = x.repeat_interleave(k, dim=0)
    bs = baselines.repeat(x.shape[0], 1, 1, 1)
    attr = deeplift(model, xs, bs, target.repeat_interleave(k))
    return attr.reshape(x.shape[0], k, *x.shape[1:]).mean(1)


def integrated_gradients(model, x, base, target, steps=256):
    alphas = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps
    total = torch.zeros_like(x)
    for a in alphas:
        p = (base + a * (x - base)).requires_grad_(True)
        out = model(p)
        (g,) = torch.autograd.grad(out[torch.arange(x.shape[0]), target].sum(), p)
        total += g
    return ((x - base) * total / steps).detach()


# ---------------------------------------------------------------- LRP (Captum rules, zennit rules)

def stabilize(z, eps):
    """Both libraries: z + eps * sign(z), sign(0) = +1."""
    return z + ((z == 0).to(z) + z.sign()) * eps


def conv_like(module):
    if isinstance(module, nn.Conv2d):
        return lambda x, w, b: F.conv2d(x, w, b, module.stride, module.padding, module.dilation, module.groups)
    return lambda x, w, b: F.linear(x, w, b)


def basic_hook(module, x, grad_out, input_mods, param_mods, gradient_mapper, reducer):
    """zennit.core.BasicHook.backward: one modified forward per (input, parameter) modifier pair."""
    fwd = conv_like(module)
    inputs, outputs = [], []
    for in_mod, param_mod in zip(input_mods, param_mods):
        inp = in_mod(x).detach().requires_grad_(True)
        w, b = param_mod(module.weight.detach(), None if module.bias is None else module.bias.detach())
        inputs.append(inp)
        outputs.append(fwd(inp, w, b))
    grads = torch.autograd.grad(outputs, inputs, grad_outputs=gradient_mapper(grad_out, outputs), allow_unused=True)
    grads = [torch.zeros_like(i) if g is None else g for i, g in zip(inputs, grads)]
    return reducer(inputs, grads)


def keep(w, b):
    return w, b


def clamp_mod(lo=None, hi=None, bias=True):
    return lambda w, b: (w.clamp(min=lo, max=hi), None if (b is None or not bias) else b.clamp(min=lo, max=hi))


def gamma_mod(gamma, lo=None, hi=None, bias=True):
    return lambda w, b: (w + gamma * w.clamp(min=lo, max=hi), None if (b is None or not bias) else b + gamma * b.clamp(min=lo, max=hi))


def zennit_rule(name, **p):
    """zennit.rules (commit in PROVENANCE.md) as (module, x, R) -> relevance of x."""
    ident = lambda t: t
    pos = lambda t: t.clamp(min=0)
    neg = lambda t: t.clamp(max=0)
    if name == 'epsilon':
        eps = p.get('epsilon', 1e-6)
        return lambda m, x, R: basic_hook(m, x, R, [ident], [keep], lambda g, o: [g / stabilize(o[0], eps)], lambda i, g: i[0] * g[0])
    if name == 'zplus':
        return lambda m, x, R: basic_hook(m, x, R, [pos, neg], [clamp_mod(lo=0.0), clamp_mod(hi=0.0, bias=False)], lambda g, o: [g / stabilize(o[0] + o[1], 1e-6)] * 2, lambda i, g: i[0] * g[0] + i[1] * g[1])
    if name == 'gamma':
        gm = p.get('gamma', 0.25)

        def mapper(g, o):
            return [out * g / stabilize(den, 1e-6) for out, den in [((o[4] > 0).to(g), o[0] + o[1])] * 2 + [((o[4] < 0).to(g), o[2] + o[3])] * 2] + [torch.zeros_like(g)]

        return lambda m, x, R: basic_hook(
            m, x, R, [pos, neg, pos, neg, ident],
            [gamma_mod(gm, lo=0.0), gamma_mod(gm, hi=0.0, bias=False), gamma_mod(gm, hi=0.0), gamma_mod(gm, lo=0.0, bias=False), keep],
            mapper, lambda i, g: sum(a * b for a, b in zip(i[:4], g[:4])))
    if name == 'flat':
        ones = lambda w, b: (torch.ones_like(w), None)
        return lambda m, x, R: basic_hook(m, x, R, [torch.ones_like], [ones], lambda g, o: [g / stabilize(o[0], 1e-6)], lambda i, g: g[0])
    if name == 'zbox':
        low, high = p['low'], p['high']

        def rule(m, x, R):
            return basic_hook(
                m, x, R, [ident, lambda t: low.expand_as(t).clone(), lambda t: high.expand_as(t).clone()],
                [keep, clamp_mod(lo=0.0), clamp_mod(hi=0.0)],
                lambda g, o: [g / stabilize(o[0] - o[1] - o[2], 1e-6)] * 3,
                lambda i, g: i[0] * g[0] - i[1] * g[1] - i[2] * g[2])
        return rule
    raise ValueError(name)


def captum_rule(name, gamma=0.25, eps=1e-9):
    """captum.attr._utils.lrp_rules: relevance = x * grad(layer with modified weights)(R / (z' + eps sign z'))."""
    def rule(m, x, R):
        x = x.detach().requires_grad_(True)
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            w = m.weight.detach()
            if name == 'gamma':
                w = w + gamma * w.clamp(min=0)
            z = conv_like(m)(x, w, None if m.bias is None else m.bias.detach())
        else:
            z = m.forward(x)
        (g,) = torch.autograd.grad(z, x, R / stabilize(z, eps))
        return x * g
    return rule


def norm_rule(eps):
    """zennit.rules.Norm (and Captum's EpsilonRule on parameter-free layers): x * grad(R / stab(y))."""
    def rule(m, x, R):
        if isinstance(x, tuple):
            xs = [t.detach().requires_grad_(True) for t in x]
            z = m.forward(*xs)
            gs = torch.autograd.grad(z, xs, R / stabilize(z, eps))
            return tuple(a * g for a, g in zip(xs, gs))
        x = x.detach().requires_grad_(True)
        z = m.forward(x)
        (g,) = torch.autograd.grad(z, x, R / stabilize(z, eps))
        return x * g
    return rule


def merge_batchnorm(model):
    """zennit's SequentialMergeBatchNorm / merge_batch_norm: conv weights and bias absorb the BN."""
    import copy
    model = copy.deepcopy(model)

    def merge(conv, bn):
        k = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
        conv.weight.data = conv.weight.data * k[:, None, None, None]
        b = conv.bias.data if conv.bias is not None else torch.zeros_like(bn.bias)
        conv.bias = nn.Parameter((b - bn.running_mean) * k + bn.bias.detach())
        return nn.Identity()

    if isinstance(model, ResNetTiny):
        model.bn1 = merge(model.conv1, model.bn1)
        for blk in (model.layer1, model.layer2):
            blk.bn1 = merge(blk.conv1, blk.bn1)
            blk.bn2 = merge(blk.conv2, blk.bn2)
            if blk.downsample is not None:
                blk.downsample[1] = merge(blk.downsample[0], blk.downsample[1])
    return model


def lrp(model, x, target, rule_for, pass_types=(nn.ReLU,), seed_logit=False):
    """Relevance propagation through module backward hooks (zennit's mechanism; Captum's tensor
    hooks compute the same per layer): each hooked module turns the relevance at its output
    into the relevance at its input; unhooked ops (max-pool, flatten) pass the gradient."""
    handles = []
    saved = {}

    def fwd_hook(m, inputs, output):
        saved[m] = tuple(i.detach() for i in inputs)

    def make_bwd(rule):
        def bwd_hook(m, grad_input, grad_output):
            ins = saved[m]
            with torch.enable_grad():
                r = rule(m, ins if len(ins) > 1 else ins[0], grad_output[0])
            return r if isinstance(r, tuple) else (r,)
        return bwd_hook

    for name, m in model.named_modules():
        if isinstance(m, pass_types):
            handles.append(m.register_full_backward_hook(lambda m, gi, go: (go[0],)))
            continue
        rule = rule_for(name, m)
        if rule is not None:
            handles.append(m.register_forward_hook(fwd_hook))
            handles.append(m.register_full_backward_hook(make_bwd(rule)))
    try:
        xi = x.clone().requires_grad_(True)
        out = model(xi)
        onehot = torch.zeros_like(out)
        onehot[torch.arange(x.shape[0]), target] = 1
        (r,) = torch.autograd.grad(out, xi, onehot)
    finally:
        for h in handles:
            h.remove()
    if seed_logit:
        r = r * out[torch.arange(x.shape[0]), target].detach()[:, None, None, None]
    return r.detach()


def captum_composite(kind):
    def rule_for(name, m):
        if isinstance(m, nn.Conv2d):
            return captum_rule('gamma' if kind == 'epsilon-gamma' else 'epsilon')
        if isinstance(m, (nn.Linear, nn.MaxPool2d, nn.AdaptiveAvgPool2d, Sum)):
            return captum_rule('epsilon') if isinstance(m, nn.Linear) else norm_rule(1e-9)
        return None
    return rule_for


def zennit_composite(kind, model):
    first = {'done': False}
    convs = [n for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    first_name = convs[0]

    def rule_for(name, m):
        if isinstance(m, (Sum, nn.AdaptiveAvgPool2d)):
            return norm_rule(1e-6)
        if isinstance(m, nn.Linear) and name != first_name:
            return zennit_rule('epsilon', epsilon=1e-6)
        if isinstance(m, nn.Conv2d) or (isinstance(m, nn.Linear) and name == first_name):
            if name == first_name:
                return zennit_rule('zbox', low=LOW, high=HIGH) if kind == 'epsilon-gamma-box' else zennit_rule('flat')
            return zennit_rule('gamma', gamma=0.25) if kind == 'epsilon-gamma-box' else zennit_rule('zplus')
        return None
    del first
    return rule_for


# ---------------------------------------------------------------- pytorch-grad-cam

def resize(img, size):
    """cv2.resize(img, (W, H)) with INTER_LINEAR, for float maps."""
    t = torch.as_tensor(np.float32(img))[None, None]
    return F.interpolate(t, size=size, mode='bilinear', align_corners=False)[0, 0].numpy()


def scale_cam_image(cam, target_size=None):
    result = []
    for img in cam:
        img = img - np.min(img)
        img = img / (1e-7 + np.max(img))
        if target_size is not None:
            img = resize(img, target_size)
        result.append(img)
    return np.float32(result)


def get_2d_projection(batch, orient=True):
    """pytorch-grad-cam's get_2d_projection; with `orient` the component's sign is chosen so the
    projection correlates positively with the channel-mean map (pytorch-grad-cam keeps the SVD's sign)."""
    batch = np.array(batch, dtype=np.float64)
    batch[np.isnan(batch)] = 0
    out = []
    for a in batch:
        m = a.reshape(a.shape[0], -1).transpose()
        mean_map = m.mean(axis=1)
        m = m - m.mean(axis=0)
        _, _, vt = np.linalg.svd(m, full_matrices=True)
        p = m @ vt[0, :]
        if orient and np.corrcoef(p, mean_map)[0, 1] < 0:
            p = -p
        out.append(p.reshape(a.shape[1:]))
    return np.float32(out)


def activations_and_grads(model, layer, x, target, input_grad=False, extra_layers=()):
    acts, grads = {}, {}
    handles = []
    for lay in (layer, *extra_layers):
        def fh(m, i, o, lay=lay):
            acts[lay] = o.detach()
            o.register_hook(lambda g, lay=lay: grads.__setitem__(lay, g.detach()))
        handles.append(lay.register_forward_hook(fh))
    xi = x.clone().requires_grad_(input_grad)
    out = model(xi)
    loss = sum(out[i, t] for i, t in enumerate(target.tolist()))
    model.zero_grad()
    loss.backward()
    for h in handles:
        h.remove()
    return acts, grads, (xi.grad.detach() if input_grad else None), out.detach()


def cam_image(kind, a, g, eigen=False):
    if kind == 'gradcam':
        w = g.mean(axis=(2, 3))
    elif kind == 'xgradcam':
        w = (g * a / (a.sum(axis=(2, 3))[:, :, None, None] + 1e-7)).sum(axis=(2, 3))
    elif kind in ('hirescam', 'eigengradcam'):
        e = g * a
        return get_2d_projection(e) if (eigen or kind == 'eigengradcam') else e.sum(axis=1)
    elif kind == 'eigencam':
        return get_2d_projection(a)
    else:
        raise ValueError(kind)
    wa = w[:, :, None, None] * a
    return get_2d_projection(wa) if eigen else wa.sum(axis=1)


def grad_cam_family(model, layer, x, target, kind, eigen=False):
    """BaseCAM.compute_cam_per_layer before scaling: the layer-resolution map after np.maximum(cam, 0)."""
    acts, grads, _, _ = activations_and_grads(model, layer, x, target)
    a, g = acts[layer].numpy(), grads[layer].numpy()
    return np.maximum(cam_image(kind, a, g, eigen), 0)


def ablation_cam(model, layer, x, target):
    """AblationCAM.get_cam_weights with AblationLayer: each channel set to 0 (the ReLU layer's min is 0)."""
    acts, _, _, out = activations_and_grads(model, layer, x, target)
    a = acts[layer]
    original = out[torch.arange(x.shape[0]), target].numpy()
    k = a.shape[1]
    weights = np.zeros((x.shape[0], k), np.float32)
    for i in range(x.shape[0]):
        for ch in range(k):
            def replace(m, inp, o, i=i, ch=ch):
                r = a[i:i + 1].clone()
                r[0, ch] = 0 if torch.min(a[i]) == 0 else torch.min(a[i]) - 1e7
                return r
            h = layer.register_forward_hook(replace)
            with torch.no_grad():
                s = model(x[i:i + 1])[0, target[i]].item()
            h.remove()
            weights[i, ch] = s
    weights = (original[:, None] - weights) / original[:, None]
    return np.maximum((weights[:, :, None, None] * a.numpy()).sum(axis=1), 0)


def full_grad(model, x, target, eigen=False):
    """pytorch-grad-cam's FullGrad: bias layers are Conv2d with a bias and BatchNorm2d."""
    layers = [m for m in model.modules() if type(m) in (nn.Conv2d, nn.BatchNorm2d) and m.bias is not None]
    bias = [(-(m.running_mean * m.weight / torch.sqrt(m.running_var + m.eps)) + m.bias).detach().numpy() if isinstance(m, nn.BatchNorm2d) else m.bias.detach().numpy() for m in layers]
    acts, grads, gin, _ = activations_and_grads(model, layers[0], x, target, input_grad=True, extra_layers=layers[1:])
    size = (x.shape[2], x.shape[3])

    def scale_across(t, target_size):
        b, c = t.shape[:2]
        return scale_cam_image(t.reshape(b * c, *t.shape[2:]), target_size).reshape(b, c, *target_size)

    per_layer = [scale_across(np.abs(gin.numpy() * x.numpy()), size)]
    for m, bvec in zip(layers, bias):
        r = scale_across(np.abs(bvec[None, :, None, None] * grads[m].numpy()), size)
        per_layer.append(r.sum(axis=1)[:, None])
    stack = np.concatenate(per_layer, axis=1)
    if eigen:
        small = scale_across(stack, (size[0] // 8, size[1] // 8))
        proj = get_2d_projection(small)[:, None]
        cam = scale_across(proj, size)[:, 0]
    else:
        cam = stack.sum(axis=1)
    return scale_cam_image(cam)


def aug_smooth(model, layer, x, target, kind):
    """BaseCAM.forward_augmentation_smoothing: ttach HorizontalFlip x Multiply(0.9, 1, 1.1)."""
    cams = []
    for flip in (False, True):
        for factor in (0.9, 1.0, 1.1):
            t = torch.flip(x, dims=[3]) if flip else x
            t = t * factor
            cam = grad_cam_family(model, layer, t, target, kind)
            cam = scale_cam_image(scale_cam_image(cam, (x.shape[2], x.shape[3])))
            if flip:
                cam = cam[:, :, ::-1]
            cams.append(cam)
    return np.mean(np.float32(cams), axis=0)


# ---------------------------------------------------------------- main

def save(folder, name, arr):
    np.save(os.path.join(folder, f'{name}.npy'), np.ascontiguousarray(np.float32(arr)))


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {}
    for name, model in (('vgg', randomize(VggTiny())), ('resnet', randomize(ResNetTiny()))):
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        layer_value, ops = export(model, os.path.join(folder, 'model.onnx'))
        x = images(2)
        with torch.no_grad():
            logits = model(x)
        target = logits.argmax(1)
        baselines = normalize(torch.rand(3, 3, SIZE, SIZE))
        save(folder, 'input', x.numpy())
        save(folder, 'baselines', baselines.numpy())
        chan = lambda t: t.sum(1).numpy()  # maps are compared channel-summed, as ConvLens displays them
        base = BLACK.expand_as(x)
        dl = deeplift(model, x, base, target)
        save(folder, 'deeplift', chan(dl))
        save(folder, 'deeplift-shap', chan(deeplift_shap(model, x, baselines, target)))
        ig = torch.stack([integrated_gradients(model, x, b[None].expand_as(x), target) for b in baselines]).mean(0)
        save(folder, 'gradient-shap-expectation', chan(ig))
        if name == 'vgg':
            for kind in ('epsilon', 'epsilon-gamma'):
                save(folder, f'lrp-{kind}', chan(lrp(model, x, target, captum_composite(kind), seed_logit=True)))
        canon = merge_batchnorm(model)
        for kind in ('epsilon-plus-flat', 'epsilon-gamma-box'):
            save(folder, f'lrp-{kind}', chan(lrp(canon, x, target, zennit_composite(kind, canon))))
        layer = model.features[-1] if name == 'vgg' else model.layer2.relu2
        for kind in ('gradcam', 'xgradcam', 'hirescam', 'eigencam', 'eigengradcam'):
            save(folder, kind, grad_cam_family(model, layer, x, target, kind))
        save(folder, 'gradcam-eigen-smooth', grad_cam_family(model, layer, x, target, 'gradcam', eigen=True))
        save(folder, 'gradcam-aug-smooth', aug_smooth(model, layer, x, target, 'gradcam'))
        save(folder, 'ablationcam', ablation_cam(model, layer, x, target))
        save(folder, 'fullgrad', full_grad(model, x, target))
        save(folder, 'fullgrad-eigen-smooth', full_grad(model, x, target, eigen=True))
        completeness = ((dl.sum((1, 2, 3)) - (logits[torch.arange(2), target] - model(base)[torch.arange(2), target].detach())).abs().max().item())
        manifest[name] = {'layer': layer_value, 'targets': target.tolist(), 'ops': sorted(set(ops)), 'deepliftCompletenessGap': completeness}
        print(name, 'targets', target.tolist(), 'deeplift completeness gap', completeness, 'layer', layer_value)
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
