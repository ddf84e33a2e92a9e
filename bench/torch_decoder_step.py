"""The engine benchmark's decoder step in PyTorch (same shapes, same loss), for a same-run comparison.
Prints one JSON object: {"step_seconds": best of 5 after 2 warm-up steps, "torch", "blas": libraries loaded}."""
import json
import math
import sys
import time

import torch

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
L, D, H, F, B, T = cfg["layers"], cfg["hidden"], cfg["heads"], cfg["intermediate"], cfg["batch"], cfg["seq"]
hd = D // H


def param(*shape, ones=False):
    t = torch.ones(*shape) if ones else torch.randn(*shape) / math.sqrt(shape[0])
    return t.requires_grad_(True)


layers = [
    dict(inn=param(D, ones=True), q=param(D, D), k=param(D, D), v=param(D, D), o=param(D, D),
         post=param(D, ones=True), gate=param(D, F), up=param(D, F), down=param(F, D))
    for _ in range(L)
]
x = torch.randn(B, T, D, requires_grad=True)
r = torch.randn(B, T, D)
inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
freqs = torch.outer(torch.arange(T).float(), inv)
emb = torch.cat([freqs, freqs], -1)
cos, sin = emb.cos(), emb.sin()
mask = torch.full((T, T), -1e30).triu(1)


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w


def rot(x):
    return torch.cat([-x[..., hd // 2:], x[..., : hd // 2]], -1)


def step():
    h = x
    for w in layers:
        n = rms(h, w["inn"])
        q = (n @ w["q"]).view(B, T, H, hd).transpose(1, 2)
        k = (n @ w["k"]).view(B, T, H, hd).transpose(1, 2)
        v = (n @ w["v"]).view(B, T, H, hd).transpose(1, 2)
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, -1) @ v
        h = h + a.transpose(1, 2).reshape(B, T, D) @ w["o"]
        m = rms(h, w["post"])
        h = h + (torch.nn.functional.silu(m @ w["gate"]) * (m @ w["up"])) @ w["down"]
    loss = (h * r).mean()
    params = [x] + [p for w in layers for p in w.values()]
    return torch.autograd.grad(loss, params)


for _ in range(2):
    step()
best = float("inf")
for _ in range(5):
    t0 = time.perf_counter()
    step()
    best = min(best, time.perf_counter() - t0)
blas = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower() and "/" in line})
print(json.dumps({"step_seconds": best, "torch": torch.__version__, "blas": blas}))
