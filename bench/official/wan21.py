#!/usr/bin/python3
"""The official Wan2.1 VAE and umT5-XXL layer, timed on the CPU like bench_vae and bench_t5.

usage: bench/official/wan21.py --wan-repo DIR [--parts t5,decode,encode] [--size 832x480]
           [--latent-frames 3] [--tokens 512] [--dtypes fp32,bf16] [--layers 24] [--repeats R]
           [--threads N]

Runs the official modules (DIR: a checkout of github.com/Wan-Video/Wan2.1; only
wan/modules/t5.py and wan/modules/vae.py are imported, by file, so the pipeline's
own dependencies are not needed) with the same shapes, random weights and
threads as our benches, so their figures can be put side by side in one session:
  t5      one T5SelfAttention layer (umT5-XXL: dim 4096, 64 heads, ffn 10240, own
          relative position bias) at --tokens, first call and median of R steady
          calls, then the encoder's --layers as that many calls of the one layer
          (bench_t5's method and FLOP formula)
  decode  WanVAE_.decode of a [1,16,F,H/8,W/8] latent (F = --latent-frames), once
  encode  WanVAE_.encode of a [1,3,1+4(F-1),H,W] video, once
GFLOP/s: the t5 formula of bench_t5; for the VAE, 2 * output elements * (input
channels / groups) * kernel volume summed over every Conv2d/Conv3d call (forward
hooks; bench_vae counts the same from the op profile). peak_rss: the process's
ru_maxrss when the part ends (cumulative, as bench_vae's VmHWM).

Needs Debian's python3-torch (1.13: the LibTorch the engine builds against).
Run it under the same BLAS kernel set as our benches: BLIS_ARCH_TYPE from
`build/bin/videogen-blas-check --select` (bench/official/run.sh does it).
Stand-ins, not the official packages (absent from Debian 12): einops.rearrange
for the two patterns vae.py uses, the tokenizer module t5.py imports but the
layer does not use, torch.cuda.current_device, and on torch 1.13
scaled_dot_product_attention as softmax(q k^T / sqrt(d)) v (see stand_in_modules).
"""
import argparse
import importlib.util
import math
import os
import resource
import sys
import time
import types

import torch


def stand_in_modules():
    """einops.rearrange for vae.py's two patterns; t5.py's tokenizer import;
    torch.cuda.current_device, which t5.py calls for a default argument when it is
    imported (a CPU-only torch raises there); and, on torch 1.x,
    F.scaled_dot_product_attention for the VAE's middle attention block."""
    torch.cuda.current_device = lambda: "cpu"
    if not hasattr(torch.nn.functional, "scaled_dot_product_attention"):  # torch >= 2.0 only

        def sdpa(q, k, v):  # the math the VAE's middle attention block asks for (no mask, no dropout)
            return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1) @ v

        torch.nn.functional.scaled_dot_product_attention = sdpa
    einops = types.ModuleType("einops")

    def rearrange(x, pattern, **sizes):
        p = pattern.replace(" ", "")
        if p == "bcthw->(bt)chw":
            b, c, t, h, w = x.shape
            return x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        if p == "(bt)chw->bcthw":
            bt, c, h, w = x.shape
            t = sizes["t"]
            return x.reshape(bt // t, t, c, h, w).permute(0, 2, 1, 3, 4)
        raise NotImplementedError("rearrange stand-in: " + pattern)

    einops.rearrange = rearrange
    sys.modules["einops"] = einops
    tokenizers = types.ModuleType("wan.modules.tokenizers")
    tokenizers.HuggingfaceTokenizer = object
    sys.modules["wan.modules.tokenizers"] = tokenizers


def load_official(repo, name):
    """Imports wan/modules/<name>.py from the checkout as wan.modules.<name>."""
    for pkg in ("wan", "wan.modules"):
        if pkg not in sys.modules:
            m = types.ModuleType(pkg)
            m.__path__ = []
            sys.modules[pkg] = m
    path = os.path.join(repo, "wan", "modules", name + ".py")
    spec = importlib.util.spec_from_file_location("wan.modules." + name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_t5(t5, args):
    dim, dim_attn, dim_ffn, heads, buckets = 4096, 4096, 10240, 64, 32
    L = float(args.tokens)
    flops = 2.0 * L * (4.0 * dim * dim_attn + 3.0 * dim * dim_ffn) + 4.0 * L * L * dim_attn
    print("t5: tokens=%d; umT5-XXL layer %.1f GFLOP; encoder = %d layers" % (args.tokens, flops / 1e9, args.layers))
    for name in args.dtypes.split(","):
        dtype = torch.bfloat16 if name == "bf16" else torch.float32
        layer = t5.T5SelfAttention(dim, dim_attn, dim_ffn, heads, buckets, shared_pos=False, dropout=0.0)
        layer = layer.eval().requires_grad_(False)
        for p in layer.parameters():
            p.normal_(0, 0.02)
        layer = layer.to(dtype)
        x = torch.randn(1, args.tokens, dim).to(dtype)
        mask = torch.ones(1, args.tokens, dtype=torch.long)
        first = seconds(lambda: layer(x, mask))
        steady = sorted(seconds(lambda: layer(x, mask)) for _ in range(args.repeats))[args.repeats // 2]

        def encoder():
            h = x
            for _ in range(args.layers):
                h = layer(h, mask)

        total = seconds(encoder)
        print("official %s layer first=%.2f s (%.1f GFLOP/s) steady=%.2f s (%.1f GFLOP/s); encoder %d layers %.1f s "
              "(%.1f GFLOP/s); peak_rss=%.2f GB" %
              (name, first, flops / first / 1e9, steady, flops / steady / 1e9, args.layers, total,
               args.layers * flops / total / 1e9, peak_rss_gb()))
        sys.stdout.flush()
        del layer, x


class ConvFlops:
    """Sums 2 * output elements * (in_channels / groups) * kernel volume over conv calls."""

    def __init__(self, model):
        self.flops = 0.0
        for m in model.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d)):
                m.register_forward_hook(self.hook)

    def hook(self, module, inputs, output):
        self.flops += 2.0 * output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)


def bench_vae(vae, args, part):
    width, height = (int(v) for v in args.size.split("x"))
    model = vae.WanVAE_(dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
                        temperal_downsample=[False, True, True], dropout=0.0).eval().requires_grad_(False)
    counter = ConvFlops(model)
    scale = [0.0, 1.0]
    if part == "decode":
        z = torch.randn(1, 16, args.latent_frames, height // 8, width // 8)
        shape = "[16,%d,%d,%d]" % (args.latent_frames, height // 8, width // 8)
        run = lambda: model.decode(z, scale)
    else:
        frames = 1 + 4 * (args.latent_frames - 1)
        video = torch.rand(1, 3, frames, height, width) * 2 - 1
        shape = "[1,3,%d,%d,%d]" % (frames, height, width)
        run = lambda: model.encode(video, scale)
    s = seconds(run)
    print("official wan21_%s %s: %.1f s, %.1f GFLOP (%.1f GFLOP/s); peak_rss=%.2f GB" %
          (part, shape, s, counter.flops / 1e9, counter.flops / s / 1e9, peak_rss_gb()))
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wan-repo", required=True)
    parser.add_argument("--parts", default="t5,decode")
    parser.add_argument("--size", default="832x480")
    parser.add_argument("--latent-frames", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--dtypes", default="fp32,bf16")
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    stand_in_modules()
    # BLIS's own thread count: PyTorch never sets it, so BLIS runs one thread
    # unless BLIS_NUM_THREADS (or OMP_NUM_THREADS) is exported.
    print("official Wan2.1 modules from %s; torch %s; threads=%d; BLIS_ARCH_TYPE=%s; BLIS_NUM_THREADS=%s" %
          (args.wan_repo, torch.__version__, torch.get_num_threads(), os.environ.get("BLIS_ARCH_TYPE", "(unset)"),
           os.environ.get("BLIS_NUM_THREADS", "(unset: one BLIS thread)")))
    for part in args.parts.split(","):
        if part == "t5":
            bench_t5(load_official(args.wan_repo, "t5"), args)
        elif part in ("decode", "encode"):
            bench_vae(load_official(args.wan_repo, "vae"), args, part)
        else:
            parser.error("unknown part " + part)


if __name__ == "__main__":
    main()
