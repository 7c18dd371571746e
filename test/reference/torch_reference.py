#!/usr/bin/env python3
"""PyTorch reference for Activation Lens.

Reads one JSON request from stdin, writes one JSON result (a single line) to stdout.
Needs only torch (>= 1.13) and the standard library. See README.md next to this file.

Modes
  profile  step-0 weight-gradient norms of an MLP, per seed, and the geometric-mean profile
           ||grad W_l|| / ||grad W_last|| over seeds.
  bench    milliseconds per plain-SGD training step (forward, backward, optimizer step) of an
           MLP or the small reference CNN, on "cpu" (2 intra-op threads) or "cuda".
  probe    the product's probe task (random or teacher targets) trained briefly: per seed and
           layer, dead and saturated fractions at step 0 and at the end, and the loss.

Errors (unreadable JSON, unknown mode/activation/init, bad shapes, CUDA missing) print one
line "torch_reference: <message>" on stderr and exit with status 2.
"""

import json
import math
import os
import sys
import time


class RequestError(Exception):
    """A problem with the request; reported on stderr with exit status 2."""


def fail(message):
    sys.stderr.write("torch_reference: %s\n" % message)
    sys.stderr.flush()
    sys.exit(2)


try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as exc:  # pragma: no cover - environment problem
    fail("cannot import torch (%s); run with a Python that has torch, e.g. /usr/bin/python3" % exc)


# --------------------------------------------------------------------------------------------
# Activations (names as in src/core/model.ts ACTIVATION_NAMES; semantics as in Keras/TF.js)
# --------------------------------------------------------------------------------------------

class Lambda(nn.Module):
    def __init__(self, fn, name):
        super().__init__()
        self.fn = fn
        self.name = name

    def forward(self, x):
        return self.fn(x)

    def extra_repr(self):
        return self.name


def _number(value, default, what):
    if value is None:
        return float(default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RequestError("%s must be a finite number, got %r" % (what, value))
    return float(value)


def make_activation(name, params, units):
    """Returns an nn.Module for a hidden activation, or None for linear (identity)."""
    if name == "linear":
        return None
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "tanh":
        return nn.Tanh()
    if name == "relu":
        return nn.ReLU()
    if name == "relu6":
        return nn.ReLU6()
    if name == "leakyRelu":
        # Activation Lens' default slope is 0.01 (PyTorch's), not Keras' 0.3.
        return nn.LeakyReLU(_number(params.get("alpha"), 0.01, "alpha"))
    if name == "prelu":
        # One learned slope per unit, starting at alpha (PyTorch default 0.25).
        return nn.PReLU(num_parameters=units, init=_number(params.get("alpha"), 0.25, "alpha"))
    if name == "rrelu":
        # Training mode: slope ~ U(lower, upper) per element, fresh each forward pass.
        return nn.RReLU(_number(params.get("lower"), 1.0 / 8, "lower"), _number(params.get("upper"), 1.0 / 3, "upper"))
    if name == "elu":
        return nn.ELU(alpha=_number(params.get("alpha"), 1.0, "alpha"))
    if name == "selu":
        return nn.SELU()
    if name == "gelu":
        # Exact GELU, x * Phi(x) with the erf-based normal CDF (not the tanh approximation).
        return nn.GELU()
    if name == "swish":
        return nn.SiLU()  # x * sigmoid(x)
    if name == "mish":
        return Lambda(lambda x: x * torch.tanh(F.softplus(x)), "mish")
    if name == "softplus":
        return nn.Softplus()  # log(1 + e^x); PyTorch switches to x above x = 20
    if name == "softsign":
        return nn.Softsign()
    if name == "hardSigmoid":
        # Keras/TF.js definition clip(0.2 x + 0.5, 0, 1), not PyTorch's x/6 + 1/2.
        return Lambda(lambda x: torch.clamp(0.2 * x + 0.5, 0.0, 1.0), "hardSigmoid")
    if name == "exponential":
        return Lambda(torch.exp, "exponential")
    if name == "softmax":
        raise RequestError("softmax is only supported as the output activation")
    raise RequestError("unknown activation %r" % (name,))


def activation_of(layer, index):
    """(name, params) from a layer entry: "activation": "elu" plus optional "alpha"/"lower"/
    "upper" on the layer, or "activation": {"name": "elu", "alpha": 0.5}."""
    act = layer.get("activation", "linear")
    params = {k: layer.get(k) for k in ("alpha", "lower", "upper")}
    if isinstance(act, dict):
        for k in ("alpha", "lower", "upper"):
            if act.get(k) is not None:
                params[k] = act.get(k)
        act = act.get("name")
    if not isinstance(act, str):
        raise RequestError("layers[%d].activation must be a string" % index)
    return act, params


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------

def glorot_uniform_(weight):
    """Keras GlorotUniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)); for a conv kernel
    fan_in = in_channels * kh * kw and fan_out = out_channels * kh * kw."""
    receptive = 1
    for s in weight.shape[2:]:
        receptive *= s
    fan_out = weight.shape[0] * receptive
    fan_in = weight.shape[1] * receptive
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        weight.uniform_(-limit, limit)


def apply_init(model, init):
    if init == "torch":
        return  # nn.Linear / nn.Conv2d as constructed: kaiming_uniform(a=sqrt 5), bias U(+-1/sqrt fan_in)
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            glorot_uniform_(module.weight)
            if module.bias is not None:
                with torch.no_grad():
                    module.bias.zero_()


def positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestError("%s must be a positive integer, got %r" % (what, value))
    return value


def parse_mlp(req):
    input_dim = positive_int(req.get("inputDim"), "inputDim")
    layers = req.get("layers")
    if not isinstance(layers, list) or not layers:
        raise RequestError("layers must be a non-empty list")
    specs = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict):
            raise RequestError("layers[%d] must be an object" % i)
        units = positive_int(layer.get("units"), "layers[%d].units" % i)
        name, params = activation_of(layer, i)
        specs.append((units, name, params))
    out_units, out_act, _ = specs[-1]
    if out_act not in ("softmax", "linear"):
        raise RequestError("the output activation must be softmax (cross-entropy) or linear (MSE), got %r" % out_act)
    if out_act == "softmax" and out_units < 2:
        raise RequestError("a softmax output needs at least 2 units")
    return input_dim, specs


def build_mlp(input_dim, specs):
    """Linear -> activation for every hidden layer; the last Linear emits logits (softmax
    output, folded into the loss) or predictions (linear output). Returns (model, [Linear])."""
    modules, linears = [], []
    fan_in = input_dim
    for i, (units, name, params) in enumerate(specs):
        lin = nn.Linear(fan_in, units)
        modules.append(lin)
        linears.append(lin)
        if i < len(specs) - 1:
            act = make_activation(name, params, units)
            if act is not None:
                modules.append(act)
        fan_in = units
    return nn.Sequential(*modules), linears


def build_cnn(input_shape, classes):
    """Conv2d(C->32, 3x3, valid) relu -> Conv2d(32->64, 3x3, valid) relu -> Flatten -> Linear(->classes).
    input_shape is Keras' channels-last [H, W, C]; tensors here are NCHW."""
    if (not isinstance(input_shape, list) or len(input_shape) != 3
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in input_shape)):
        raise RequestError("inputShape must be [height, width, channels] of positive integers")
    h, w, c = input_shape
    if h < 5 or w < 5:
        raise RequestError("inputShape must be at least 5x5 for two valid 3x3 convolutions")
    model = nn.Sequential(
        nn.Conv2d(c, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64 * (h - 4) * (w - 4), classes),
    )
    return model, (c, h, w)


def make_batch(batch, in_shape, out_kind, out_units, device):
    """x ~ N(0, 1); targets: class indices uniform in [0, classes) for softmax/cross-entropy,
    N(0, 1) values for a linear output with MSE. Drawn after the model, from the same generator."""
    x = torch.randn((batch,) + tuple(in_shape), dtype=torch.float32).to(device)
    if out_kind == "softmax":
        y = torch.randint(0, out_units, (batch,), dtype=torch.int64).to(device)
    else:
        y = torch.randn((batch, out_units), dtype=torch.float32).to(device)
    return x, y


def loss_fn(out_kind, out, y):
    if out_kind == "softmax":
        # mean over the batch of -log softmax(logits)[target] == Keras categoricalCrossentropy
        # on softmax probabilities with one-hot targets.
        return F.cross_entropy(out, y)
    # mean over batch and units of (pred - target)^2 == Keras meanSquaredError.
    return F.mse_loss(out, y)


# --------------------------------------------------------------------------------------------
# Modes
# --------------------------------------------------------------------------------------------

def run_profile(req):
    input_dim, specs = parse_mlp(req)
    batch = positive_int(req.get("batchSize", 64), "batchSize")
    seeds = req.get("seeds", [0, 1, 2, 3, 4])
    if not isinstance(seeds, list) or not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise RequestError("seeds must be a non-empty list of non-negative integers")
    init = req.get("init", "keras")
    if init not in ("keras", "torch"):
        raise RequestError("init must be \"keras\" or \"torch\", got %r" % (init,))
    out_kind = specs[-1][1]
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))

    per_seed, profiles = [], []
    for seed in seeds:
        torch.manual_seed(seed)
        model, linears = build_mlp(input_dim, specs)
        apply_init(model, init)
        model.train()
        x, y = make_batch(batch, (input_dim,), out_kind, specs[-1][0], "cpu")
        loss = loss_fn(out_kind, model(x), y)
        loss.backward()
        norms = [float(lin.weight.grad.double().norm()) for lin in linears]
        per_seed.append(norms)
        last = norms[-1]
        profiles.append([n / last if last > 0 else float("nan") for n in norms])

    geo = []
    for l in range(len(specs)):
        vals = [p[l] for p in profiles]
        if all(v > 0 and math.isfinite(v) for v in vals):
            geo.append(math.exp(sum(math.log(v) for v in vals) / len(vals)))
        elif any(math.isnan(v) for v in vals):
            geo.append(None)
        else:
            geo.append(0.0)
    return {"perSeed": per_seed, "profileGeoMean": geo}


def run_bench(req):
    device = req.get("device", "cpu")
    if device not in ("cpu", "cuda"):
        raise RequestError("device must be \"cpu\" or \"cuda\", got %r" % (device,))
    if device == "cuda" and not torch.cuda.is_available():
        raise RequestError("device \"cuda\" requested but torch.cuda.is_available() is False "
                           "(torch %s, built with CUDA %s)" % (torch.__version__, torch.version.cuda))
    threads = 2
    torch.set_num_threads(threads)
    batch = positive_int(req.get("batchSize", 64), "batchSize")
    steps = positive_int(req.get("steps", 100), "steps")
    warmup = req.get("warmup", 5)
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise RequestError("warmup must be a non-negative integer")
    lr = _number(req.get("lr"), 0.01, "lr")
    init = req.get("init", "keras")
    if init not in ("keras", "torch"):
        raise RequestError("init must be \"keras\" or \"torch\", got %r" % (init,))
    seed = req.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise RequestError("seed must be a non-negative integer")
    kind = req.get("model", "mlp")

    torch.manual_seed(seed)
    if kind == "mlp":
        input_dim, specs = parse_mlp(req)
        model, _ = build_mlp(input_dim, specs)
        in_shape, out_kind, out_units = (input_dim,), specs[-1][1], specs[-1][0]
    elif kind == "cnn":
        classes = positive_int(req.get("classes", 10), "classes")
        model, in_shape = build_cnn(req.get("inputShape", [28, 28, 1]), classes)
        out_kind, out_units = "softmax", classes
    else:
        raise RequestError("model must be \"mlp\" or \"cnn\", got %r" % (kind,))
    apply_init(model, init)
    model.to(device).train()
    x, y = make_batch(batch, in_shape, out_kind, out_units, device)
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(out_kind, model(x), y)
        loss.backward()
        opt.step()
        return loss

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for _ in range(warmup):
        step()
    sync()
    # CPU: every step is timed on its own as well (synchronous, so free), giving a median that
    # resists other load on the machine. CUDA: only the whole loop, to keep the queue full.
    per_step = []
    t0 = time.perf_counter()
    for _ in range(steps):
        ts = time.perf_counter()
        loss = step()
        if device == "cpu":
            per_step.append(time.perf_counter() - ts)
    sync()
    elapsed = time.perf_counter() - t0
    final_loss = float(loss.detach())
    per_step.sort()
    median = per_step[len(per_step) // 2] if len(per_step) % 2 else (
        (per_step[len(per_step) // 2 - 1] + per_step[len(per_step) // 2]) / 2 if per_step else None)
    return {
        "msPerStep": elapsed * 1000.0 / steps,
        "threads": threads,
        "torch": torch.__version__,
        "device": device,
        "model": kind,
        "batchSize": batch,
        "steps": steps,
        "warmup": warmup,
        "medianMsPerStep": median * 1000.0 if median is not None else None,
        "finalLoss": final_loss,
        # torch.set_num_threads does not reach OpenBLAS in Debian's generic-BLAS build: with
        # OPENBLAS_NUM_THREADS=1 the GEMMs run on one thread and only elementwise ops use two.
        "openblasNumThreads": os.environ.get("OPENBLAS_NUM_THREADS"),
    }


# --------------------------------------------------------------------------------------------
# probe: the product's probe task (random or teacher targets), trained briefly, with the dead and
# saturated fractions of every hidden layer at step 0 and at the end
# --------------------------------------------------------------------------------------------

PROBE_SIZE = 256
TEACHER_HIDDEN = 32
SATURATION = {"sigmoid": 5.0, "tanh": 2.5, "hardSigmoid": 2.5}
DEAD_FAMILY = ("relu", "relu6")


def _fans(weight):
    receptive = 1
    for s in weight.shape[2:]:
        receptive *= s
    return weight.shape[1] * receptive, weight.shape[0] * receptive


def init_kernel_(weight, spec, where):
    """Kernel initialisers of the probe vocabulary (fans as Keras: channels x kernel area)."""
    name, params = (spec, {}) if isinstance(spec, str) else (spec.get("name") if isinstance(spec, dict) else None, spec)
    fan_in, fan_out = _fans(weight)
    with torch.no_grad():
        if name == "torch":
            return  # as constructed: kaiming_uniform_(a=sqrt 5), i.e. U(+-1/sqrt(fan_in))
        if name == "glorotUniform":
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            weight.uniform_(-limit, limit)
        elif name == "heUniform":
            limit = math.sqrt(6.0 / fan_in)
            weight.uniform_(-limit, limit)
        elif name == "heNormal":
            # Keras / TF.js: truncated normal (at 2 std) rescaled so the std is sqrt(2 / fan_in).
            std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
            nn.init.trunc_normal_(weight, 0.0, std, -2 * std, 2 * std)
        elif name == "randomNormal":
            weight.normal_(_number(params.get("mean"), 0.0, where + ".mean"), _number(params.get("stddev"), 0.05, where + ".stddev"))
        else:
            raise RequestError("%s: unknown kernel initializer %r (glorotUniform, heNormal, heUniform, torch, "
                               "{\"name\": \"randomNormal\", \"stddev\": s})" % (where, spec))


def init_bias_(bias, spec, where):
    with torch.no_grad():
        if spec == "torch":
            return  # as constructed: U(+-1/sqrt(fan_in))
        if spec == "zeros" or spec is None:
            bias.zero_()
        elif isinstance(spec, (int, float)) and not isinstance(spec, bool) and math.isfinite(spec):
            bias.fill_(float(spec))
        else:
            raise RequestError("%s: bias must be a number, \"zeros\" or \"torch\", got %r" % (where, spec))


class ProbeNet(nn.Module):
    """The probe vocabulary: dense / conv2d (each with its activation), maxpool2d, flatten.
    forward returns the head's raw output and the pre-activations of every layer with weights."""

    def __init__(self, input_shape, layers, default_init):
        super().__init__()
        if (not isinstance(input_shape, list) or len(input_shape) not in (1, 3)
                or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in input_shape)):
            raise RequestError("model.inputShape must be [features] or [height, width, channels]")
        if not isinstance(layers, list) or not layers:
            raise RequestError("model.layers must be a non-empty list")
        # Keras' channels-last [H, W, C] -> NCHW tensors.
        shape = tuple(input_shape) if len(input_shape) == 1 else (input_shape[2], input_shape[0], input_shape[1])
        self.in_shape = shape
        self.mods = nn.ModuleList()
        self.kinds, self.acts = [], []
        for i, layer in enumerate(layers):
            where = "model.layers[%d]" % i
            if not isinstance(layer, dict):
                raise RequestError(where + " must be an object")
            kind = layer.get("type")
            act, params = activation_of(layer, i)
            if kind == "dense":
                if len(shape) != 1:
                    raise RequestError(where + ": dense needs a flat input (add a flatten layer)")
                units = positive_int(layer.get("units"), where + ".units")
                mod = nn.Linear(shape[0], units)
                shape = (units,)
            elif kind == "conv2d":
                if len(shape) != 3:
                    raise RequestError(where + ": conv2d needs an image input")
                filters = positive_int(layer.get("filters"), where + ".filters")
                k = positive_int(layer.get("kernelSize", 3), where + ".kernelSize")
                padding = layer.get("padding", "valid")
                if padding not in ("valid", "same") or (padding == "same" and k % 2 == 0):
                    raise RequestError(where + ": padding must be \"valid\" or \"same\" (odd kernels)")
                pad = k // 2 if padding == "same" else 0
                mod = nn.Conv2d(shape[0], filters, k, padding=pad)
                h, w = shape[1] + 2 * pad - k + 1, shape[2] + 2 * pad - k + 1
                if h < 1 or w < 1:
                    raise RequestError(where + ": the image is smaller than the kernel")
                shape = (filters, h, w)
            elif kind == "maxpool2d":
                if len(shape) != 3:
                    raise RequestError(where + ": maxpool2d needs an image input")
                p = positive_int(layer.get("poolSize", 2), where + ".poolSize")
                mod = nn.MaxPool2d(p)
                shape = (shape[0], shape[1] // p, shape[2] // p)
                act = "linear"
            elif kind == "flatten":
                mod = nn.Flatten()
                n = 1
                for v in shape:
                    n *= v
                shape = (n,)
                act = "linear"
            else:
                raise RequestError(where + ": type must be dense, conv2d, maxpool2d or flatten, got %r" % (kind,))
            if kind in ("dense", "conv2d"):
                init_kernel_(mod.weight, layer.get("kernelInit", "torch" if default_init == "torch" else "glorotUniform"), where)
                init_bias_(mod.bias, layer.get("bias", "torch" if default_init == "torch" else "zeros"), where)
            last = i == len(layers) - 1
            if last:
                if kind != "dense" or act not in ("softmax", "sigmoid", "linear"):
                    raise RequestError("the last layer must be dense with softmax, sigmoid or linear")
                fn = None
            else:
                fn = make_activation(act, params, getattr(mod, "out_features", getattr(mod, "out_channels", 1)))
            self.mods.append(mod)
            self.kinds.append(kind)
            self.acts.append((act, fn))
        self.head = self.acts[-1][0]
        self.out_units = shape[0]
        for act, fn in self.acts:
            if fn is not None:
                self.add_module("act%d" % len(self._modules), fn)

    def forward(self, x):
        pre = []
        for mod, kind, (act, fn) in zip(self.mods, self.kinds, self.acts):
            x = mod(x)
            if kind in ("dense", "conv2d"):
                pre.append(x)
            if fn is not None:
                x = fn(x)
        return x, pre


def probe_targets(task, x, head, k):
    """A function giving the probe task's targets for inputs shaped like x ([N, ...]), and the
    targets of x itself. Drawn from the global generator. Teacher: W1 ~ N(0, 1/d) [d x 32],
    h = tanh(x W1), W2 ~ N(0, 1/32) [32 x k], z = h W2 with each column standardised by x's
    statistics; classes = argmax z, bits = z > 0, values = z. Random: fresh draws per call."""
    n = x.shape[0]
    if task == "random":
        def targets(inputs):
            m = inputs.shape[0]
            if head == "softmax":
                return torch.randint(0, k, (m,), dtype=torch.int64)
            if head == "sigmoid":
                return torch.randint(0, 2, (m, k)).float()
            return torch.randn((m, k))
        return targets, targets(x)
    d = x[0].numel()
    w1 = torch.randn((d, TEACHER_HIDDEN)) / math.sqrt(d)
    w2 = torch.randn((TEACHER_HIDDEN, k)) / math.sqrt(TEACHER_HIDDEN)
    z0 = torch.tanh(x.reshape(n, -1) @ w1) @ w2
    mean, std = z0.mean(0, keepdim=True), z0.std(0, unbiased=False, keepdim=True).clamp_min(1e-12)

    def targets(inputs):
        z = (torch.tanh(inputs.reshape(inputs.shape[0], -1) @ w1) @ w2 - mean) / std
        if head == "softmax":
            return z.argmax(1)
        if head == "sigmoid":
            return (z > 0).float()
        return z
    return targets, targets(x)


def probe_loss(head, out, y):
    if head == "softmax":
        return F.cross_entropy(out, y)
    if head == "sigmoid":
        return F.binary_cross_entropy_with_logits(out, y)
    return F.mse_loss(out, y)


def make_optimizer(name, params, lr, momentum):
    # Keras / TF.js constants where they differ from PyTorch's defaults.
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, eps=1e-7)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=0.95, eps=1e-7)
    raise RequestError("optimizer must be adam, sgd, rmsprop or adadelta, got %r" % (name,))


def probe_measure(model, x_probe):
    """Per layer with weights: dead fraction (units whose pre-activation is <= 0 for every probe
    sample and position; ReLU family only) and saturated fraction (entries beyond the saturation
    point; sigmoid/tanh only); None where the measure does not apply. The head is left out."""
    with torch.no_grad():
        _, pre = model(x_probe)
    out = []
    acts = [a for (a, _), k in zip(model.acts, model.kinds) if k in ("dense", "conv2d")]
    for z, act in zip(pre[:-1], acts[:-1]):
        per_unit = z.transpose(0, 1).reshape(z.shape[1], -1)  # [units or channels, samples x positions]
        dead = float((per_unit <= 0).all(1).float().mean())
        sat = float((z.abs() >= SATURATION[act]).float().mean()) if act in SATURATION else None
        out.append({"dead": dead if act in DEAD_FAMILY else None, "saturated": sat,
                    "preMean": float(z.mean()), "preStd": float(z.std())})
    return out


def run_probe_one(req):
    model_req = req.get("model")
    if not isinstance(model_req, dict):
        raise RequestError("model must be an object {inputShape, layers}")
    task = req.get("task", "teacher")
    if task not in ("random", "teacher"):
        raise RequestError("task must be \"random\" or \"teacher\", got %r" % (task,))
    opt_name = req.get("optimizer", "adam")
    lr = _number(req.get("lr"), 0.001, "lr")
    momentum = _number(req.get("momentum"), 0.0, "momentum")
    steps = req.get("steps", 100)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise RequestError("steps must be a non-negative integer")
    batch = positive_int(req.get("batchSize", 64), "batchSize")
    seeds = req.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise RequestError("seeds must be a non-empty list of non-negative integers")
    init = model_req.get("init", "keras")
    if init not in ("keras", "torch"):
        raise RequestError("model.init must be \"keras\" or \"torch\", got %r" % (init,))

    per_seed = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = ProbeNet(model_req.get("inputShape"), model_req.get("layers"), init)
        model.train()
        rows = 8 * batch
        x = torch.randn((rows,) + model.in_shape)
        target_fn, y = probe_targets(task, x, model.head, model.out_units)
        x_probe = x[:PROBE_SIZE]
        opt = make_optimizer(opt_name, model.parameters(), lr, momentum)

        def full_loss():
            with torch.no_grad():
                return float(probe_loss(model.head, model(x)[0], y))

        start = probe_measure(model, x_probe)
        loss_start = full_loss()
        batch_losses = []
        non_finite_step = None
        for step in range(steps):
            lo = (step % 8) * batch
            xb, yb = x[lo:lo + batch], y[lo:lo + batch]
            opt.zero_grad(set_to_none=True)
            loss = probe_loss(model.head, model(xb)[0], yb)
            loss.backward()
            value = float(loss.detach())
            batch_losses.append(value)
            if not math.isfinite(value):
                non_finite_step = step
                break
            opt.step()
        end = probe_measure(model, x_probe)
        # Held out: fresh inputs (drawn after training) with the same teacher (or fresh random targets).
        x_held = torch.randn((rows,) + model.in_shape)
        y_held = target_fn(x_held)
        with torch.no_grad():
            loss_held = float(probe_loss(model.head, model(x_held)[0], y_held))
        layers = []
        wi = [i for i, k in enumerate(model.kinds) if k in ("dense", "conv2d")]
        for j, (a, b) in enumerate(zip(start, end)):
            i = wi[j]
            layers.append({"index": i, "type": model.kinds[i], "activation": model.acts[i][0],
                           "deadStart": a["dead"], "deadEnd": b["dead"],
                           "saturatedStart": a["saturated"], "saturatedEnd": b["saturated"],
                           "preStdStart": a["preStd"], "preStdEnd": b["preStd"]})
        epochs = [sum(batch_losses[i:i + 8]) / len(batch_losses[i:i + 8]) for i in range(0, len(batch_losses), 8)]
        per_seed.append({"seed": seed, "lossStart": loss_start, "lossEnd": full_loss(), "lossHeldOut": loss_held,
                         "firstBatchLoss": batch_losses[0] if batch_losses else None,
                         "epochLosses": epochs,
                         "nonFiniteStep": non_finite_step, "layers": layers})
    return {"tag": req.get("tag"), "task": task, "optimizer": opt_name, "lr": lr, "steps": steps, "batchSize": batch, "perSeed": per_seed}


def run_probe(req):
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    runs = req.get("runs")
    if runs is None:
        return run_probe_one(req)
    if not isinstance(runs, list) or not runs or not all(isinstance(r, dict) for r in runs):
        raise RequestError("runs must be a non-empty list of probe requests")
    shared = {k: v for k, v in req.items() if k not in ("runs", "mode")}
    return {"runs": [run_probe_one(dict(shared, **r)) for r in runs]}


def finite(value):
    """JSON has no NaN/Infinity: non-finite numbers (e.g. overflowing gradients) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    return value


def main():
    raw = sys.stdin.read()
    try:
        req = json.loads(raw)
    except ValueError as exc:
        fail("request is not valid JSON: %s" % exc)
    if not isinstance(req, dict):
        fail("request must be a JSON object")
    try:
        mode = req.get("mode")
        if mode == "profile":
            result = run_profile(req)
        elif mode == "bench":
            result = run_bench(req)
        elif mode == "probe":
            result = run_probe(req)
        else:
            raise RequestError("mode must be \"profile\", \"bench\" or \"probe\", got %r" % (mode,))
    except RequestError as exc:
        fail(str(exc))
    sys.stdout.write(json.dumps(finite(result), allow_nan=False) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
