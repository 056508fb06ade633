#!/usr/bin/env python3
"""Held-out GPU measurements for validating dsadvisor's memory / latency estimates.

Replicates the method of the calibration set (shared/calibration/README.md) on models and
cases that are NOT in it, so the estimator can be checked on data it was not fitted to.

Runs on a CUDA machine with torch + transformers (measured with torch 2.11, transformers 5.17).
Models are built from config dicts with random bf16 weights: weight values change neither
memory nor time.

Usage:
    python3 measure.py transformers OUT.jsonl   # kind: device, model, case rows
    python3 measure.py decode OUT.jsonl         # kind: device, decode rows
    python3 measure.py all OUT.jsonl            # both, in one process
    add --smoke to shrink every model and case (a quick check of the code path, e.g. on CPU)

Rows are appended to OUT.jsonl and flushed one at a time, so a run cut short keeps what it
measured. A case that fails (out of memory, say) is written with ok: false and its error.

Row kinds (field names and definitions as in the calibration files):

kind: device   copy_bytes_per_s (large device-to-device copy, bytes read + written per second),
               bf16_flops (8192^3 bf16 matrix product), total_bytes, gpu.
kind: model    Hugging Face transformers model: params, weight_bytes (allocated bytes added by
               building the model), context_bytes (CUDA context + library workspaces before any
               allocation; first model only, else null), device_used_start (total - free before
               the model was built), config, versions. For an MLA model also how the cache is laid out.
kind: case     one request shape served with transformers (sdpa attention): `batch` sequences of
               `prompt` random tokens prefilled in one forward pass with logits_to_keep=1, then
               `decode` (16) greedy steps with the default dynamic KV cache.
               kv_bytes_after_prefill / kv_bytes_end: bytes held by the cache tensors.
               prefill_peak_over_weights: peak allocated during prefill minus what was allocated
               just before it (weights + input ids + persistent library workspaces).
               peak_total_allocated: allocator peak over the whole case, weights included.
               reserved_end: caching allocator's reserve; device_used_end: total - free from
               torch.cuda.mem_get_info (what nvidia-smi shows).
               prefill_s: synchronised wall time of the prefill forward (a warm-up request runs
               before the first case of every model, so no row includes warm-up).
               decode_step_s_median_eager: median synchronised wall time of one eager step.
               As in the calibration, the allocator cache is NOT emptied between the cases of
               one model (reserved grows across them); it is emptied between models.
kind: decode   one decode step of the whole batch over a full static KV cache of `context`
               tokens (embedding gather, per layer: RMSNorm, fused QKV matmul (+bias for qwen2),
               RoPE, write of the new K/V, SDPA, o-proj, RMSNorm, fused gate/up matmul, SiLU*up,
               down; final norm, output head, argmax), all bf16, captured in ONE CUDA graph and
               replayed; step_s is the median of 7 x 10 replays.
               weight_bytes: every weight of the step module (embedding table included);
               bytes_per_step: weights without the embedding table + the whole KV cache;
               achieved_bytes_per_s = bytes_per_step / step_s.
"""

import argparse
import gc
import json
import statistics
import sys
import time
import traceback

import torch
import torch.nn.functional as F

DTYPE = torch.bfloat16
DECODE_STEPS = 16  # greedy steps after the prefill (calibration: 16)

# ----------------------------------------------------------------------------------------------
# Models: exact values from the released config.json files (shared/reference/deepseek-released.md).
# As in the calibration, RoPE scaling (llama3 x8, linear x4, YaRN) is left out: it changes neither
# memory nor time.

TRANSFORMERS_MODELS = [
    # Most valuable first: the only MoE + MLA model, whose cache layout decides its memory.
    ("deepseek-v2-lite", "deepseek_v2", {
        "vocab_size": 102400, "hidden_size": 2048, "intermediate_size": 10944,
        "moe_intermediate_size": 1408, "num_hidden_layers": 27, "num_attention_heads": 16,
        "num_key_value_heads": 16, "q_lora_rank": None, "kv_lora_rank": 512,
        "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
        "n_routed_experts": 64, "n_shared_experts": 2, "num_experts_per_tok": 6,
        "first_k_dense_replace": 1, "topk_method": "greedy", "n_group": 1, "topk_group": 1,
        "norm_topk_prob": False, "routed_scaling_factor": 1.0,
        "max_position_embeddings": 163840, "rope_theta": 10000.0, "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False,
        # moe_layer_freq (1) is not a field of transformers' DeepseekV2Config: every layer from
        # first_k_dense_replace on is MoE, which is what moe_layer_freq=1 means.
    }),
    ("r1-distill-llama-8b", "llama", {
        "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
        "max_position_embeddings": 131072, "rope_theta": 500000.0, "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False,
    }),
    ("deepseek-coder-6.7b", "llama", {
        "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 32256,
        "max_position_embeddings": 16384, "rope_theta": 100000.0, "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False,
    }),
    ("r1-distill-qwen-1.5b", "qwen2", {
        "hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28,
        "num_attention_heads": 12, "num_key_value_heads": 2, "vocab_size": 151936,
        "max_position_embeddings": 131072, "rope_theta": 10000.0, "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False, "use_sliding_window": False,
    }),
]

# Request shapes, in the calibration's order: (batch, prompt).
CASES = [(1, 512), (1, 8192), (8, 2048), (32, 1024), (1, 32768)]

# Dense models for the CUDA-graph decode step (qkv_bias: qwen2 carries q/k/v biases).
DECODE_MODELS = [
    ("r1-distill-qwen-1.5b", dict(layers=28, hidden=1536, inter=8960, heads=12, kv_heads=2,
                                  head_dim=128, vocab=151936, qkv_bias=True, eps=1e-6,
                                  theta=10000.0)),
    ("deepseek-coder-6.7b", dict(layers=32, hidden=4096, inter=11008, heads=32, kv_heads=32,
                                 head_dim=128, vocab=32256, qkv_bias=False, eps=1e-6,
                                 theta=100000.0)),
    ("r1-distill-llama-8b", dict(layers=32, hidden=4096, inter=14336, heads=32, kv_heads=8,
                                 head_dim=128, vocab=128256, qkv_bias=False, eps=1e-5,
                                 theta=500000.0)),
    ("r1-distill-qwen-32b", dict(layers=64, hidden=5120, inter=27648, heads=40, kv_heads=8,
                                 head_dim=128, vocab=152064, qkv_bias=True, eps=1e-6,
                                 theta=1000000.0)),
]

# (batch, context). A case whose KV cache does not fit next to the weights is skipped
# (written as ok: false with the reason).
DECODE_CASES = [(1, 1024), (1, 8192), (8, 2048), (32, 1024), (64, 2048)]
# deepseek-coder-6.7b is MHA: b64 c2048 needs 68.7 GB of KV next to 13.5 GB of weights (over
# 80 GB), so it gets b64 c1024 instead.
DECODE_EXTRA_CASES = {"deepseek-coder-6.7b": [(64, 1024)]}

# ----------------------------------------------------------------------------------------------
# Small helpers


class Writer:
    """Appends JSON rows to a file, flushing each one."""

    def __init__(self, path):
        self.f = open(path, "a", buffering=1)

    def row(self, obj):
        line = json.dumps(obj)
        self.f.write(line + "\n")
        self.f.flush()
        print(line, flush=True)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def is_cuda(dev):
    return dev.type == "cuda"


def sync(dev):
    if is_cuda(dev):
        torch.cuda.synchronize()


def device_used(dev):
    """total - free as the driver reports it (what nvidia-smi shows)."""
    if not is_cuda(dev):
        return None
    free, total = torch.cuda.mem_get_info()
    return total - free


def allocated(dev):
    return torch.cuda.memory_allocated() if is_cuda(dev) else None


def max_allocated(dev):
    return torch.cuda.max_memory_allocated() if is_cuda(dev) else None


def reserved(dev):
    return torch.cuda.memory_reserved() if is_cuda(dev) else None


def diff(a, b):
    return None if a is None or b is None else a - b


def gpu_name(dev):
    return torch.cuda.get_device_name() if is_cuda(dev) else "cpu"


def gpu_total(dev):
    return torch.cuda.mem_get_info()[1] if is_cuda(dev) else None


def error_text(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}"


# ----------------------------------------------------------------------------------------------
# kind: device


def measure_device(dev, w, smoke):
    """Large device-to-device copy (bytes read + written / s) and an 8192^3 bf16 matmul."""
    n = 8192 if not smoke else 256
    nbytes = (1 << 30) if not smoke else (1 << 20)

    def timed(fn, samples=10, reps=10):
        """Median over `samples` of the mean time of `reps` back-to-back calls (after 3 warm-ups),
        so one host synchronisation is spread over many calls."""
        for _ in range(3):
            fn()
        times = []
        for _ in range(samples):
            sync(dev)
            t0 = time.perf_counter()
            for _ in range(reps):
                fn()
            sync(dev)
            times.append((time.perf_counter() - t0) / reps)
        return statistics.median(times)

    # A tiny product first: cuBLAS allocates its persistent workspace now, in a segment of its
    # own, rather than inside the 1 GiB copy buffers' segment (which empty_cache could then not
    # give back, leaving ~1 GiB reserved under the first model).
    torch.mm(torch.ones(64, 64, dtype=DTYPE, device=dev), torch.ones(64, 64, dtype=DTYPE, device=dev))
    src = torch.empty(nbytes, dtype=torch.uint8, device=dev).random_(0, 255)
    dst = torch.empty_like(src)
    t_copy = timed(lambda: dst.copy_(src))
    del src, dst
    a = torch.randn(n, n, dtype=DTYPE, device=dev)
    b = torch.randn(n, n, dtype=DTYPE, device=dev)
    t_mm = timed(lambda: torch.mm(a, b))
    del a, b
    gc.collect()
    if is_cuda(dev):
        torch.cuda.empty_cache()
    w.row({"kind": "device", "gpu": gpu_name(dev), "copy_bytes_per_s": 2 * nbytes / t_copy,
           "bf16_flops": 2 * n ** 3 / t_mm, "total_bytes": gpu_total(dev),
           "copy_bytes": nbytes, "matmul_n": n, "timing": "median of 10 x (10 back-to-back calls)",
           "reserved_after": reserved(dev), "device_used_after": device_used(dev)})


# ----------------------------------------------------------------------------------------------
# kind: model / case (Hugging Face transformers)


def kv_cache_bytes(cache):
    """Bytes held by the key/value tensors of a transformers Cache, and layer 0's shapes."""
    total, shapes = 0, None
    for layer in getattr(cache, "layers", []):
        for t in (getattr(layer, "keys", None), getattr(layer, "values", None)):
            if isinstance(t, torch.Tensor):
                total += t.numel() * t.element_size()
        if shapes is None:
            shapes = [list(layer.keys.shape), list(layer.values.shape)]
    return total, shapes


def shrink_config(model_type, cfg):
    """--smoke: same architecture, tiny sizes."""
    cfg = dict(cfg)
    cfg.update(hidden_size=256, intermediate_size=512, num_hidden_layers=2, vocab_size=1024)
    if model_type == "deepseek_v2":
        cfg.update(moe_intermediate_size=64, num_attention_heads=4, num_key_value_heads=4,
                   kv_lora_rank=64, qk_nope_head_dim=32, qk_rope_head_dim=16, v_head_dim=32,
                   n_routed_experts=8, num_experts_per_tok=2)
    else:
        heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        cfg.update(num_attention_heads=4, num_key_value_heads=4 if heads == kv else 2)
    return cfg


def mla_layout_note(cfg, kv_per_token):
    """Describe how transformers stores an MLA model's cache, from the measured bytes/token."""
    L, h = cfg["num_hidden_layers"], cfg["num_attention_heads"]
    latent = L * (cfg["kv_lora_rank"] + cfg["qk_rope_head_dim"]) * 2
    expanded = L * h * (cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"] + cfg["v_head_dim"]) * 2
    if kv_per_token == latent:
        what = ("compressed latent: per layer per token one kv_lora_rank vector (normalised "
                "kv latent, stored as 'keys' [b,1,s,kv_lora_rank]) and one shared RoPE key "
                "('values' [b,1,s,qk_rope_head_dim]); per-head K/V are re-expanded from the "
                "latent with kv_b_proj on every forward (transient, not cached)")
    elif kv_per_token == expanded:
        what = "decompressed per-head K (nope+rope) and V"
    else:
        what = "neither the latent nor the per-head layout"
    return {"kv_cache_layout": what, "kv_bytes_per_token_measured": kv_per_token,
            "kv_bytes_per_token_if_latent": latent, "kv_bytes_per_token_if_expanded": expanded}


@torch.inference_mode()
def serve_once(model, vocab, batch, prompt, steps, dev):
    """Prefill `batch` x `prompt` random tokens, then `steps` greedy decode steps.

    Returns the measurements of one case row (memory figures as in the calibration)."""
    if is_cuda(dev):
        torch.cuda.reset_peak_memory_stats()
    ids = torch.randint(0, vocab, (batch, prompt), device=dev)
    sync(dev)
    before = allocated(dev)
    t0 = time.perf_counter()
    out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
    sync(dev)
    prefill_s = time.perf_counter() - t0
    prefill_peak = max_allocated(dev)
    cache = out.past_key_values
    kv_prefill, shapes = kv_cache_bytes(cache)
    tok = out.logits[:, -1].argmax(-1, keepdim=True)
    del out
    step_times = []
    for _ in range(steps):
        sync(dev)
        t0 = time.perf_counter()
        out = model(input_ids=tok, past_key_values=cache, use_cache=True)
        tok = out.logits[:, -1].argmax(-1, keepdim=True)
        sync(dev)
        step_times.append(time.perf_counter() - t0)
        del out
    kv_end, _ = kv_cache_bytes(cache)
    peak = max_allocated(dev)
    row = {
        "prefill_s": prefill_s,
        "prefill_peak_over_weights": diff(prefill_peak, before),
        "kv_bytes_after_prefill": kv_prefill,
        "decode_step_s_median_eager": statistics.median(step_times) if step_times else None,
        "kv_bytes_end": kv_end,
        "peak_total_allocated": peak,
        "peak_over_weights": diff(peak, before),
        "reserved_end": reserved(dev),
        "device_used_end": device_used(dev),
        # extras (not in the calibration rows)
        "allocated_before_prefill": before,
        "kv_layer0_shapes": shapes,
    }
    del cache, tok, ids
    gc.collect()  # frees the case's tensors; the allocator's cache is kept, as in the calibration
    return row


def run_transformers(dev, w, smoke, context_bytes, only=None, skip_cases=()):
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM

    first = True
    for name, model_type, cfg in TRANSFORMERS_MODELS:
        if only and name not in only:
            continue
        if smoke:
            cfg = shrink_config(model_type, cfg)
        gc.collect()
        if is_cuda(dev):
            torch.cuda.empty_cache()
        used_start, reserved_start = device_used(dev), reserved(dev)
        log(f"building {name}")
        try:
            config = AutoConfig.for_model(model_type, **cfg)
            before = allocated(dev)
            t0 = time.perf_counter()
            with torch.device(dev):
                model = AutoModelForCausalLM.from_config(config, dtype=DTYPE,
                                                         attn_implementation="sdpa")
            model.eval()
            sync(dev)
            build_s = time.perf_counter() - t0
            weight_bytes = diff(allocated(dev), before)
        except Exception as e:  # noqa: BLE001 - recorded in the row
            traceback.print_exc()
            w.row({"kind": "model", "model": name, "model_type": model_type, "config": cfg,
                   "ok": False, "error": error_text(e)})
            continue
        params = sum(p.numel() for p in model.parameters())
        vocab = cfg["vocab_size"]

        # Warm-up request (same shape as the first case, 2 decode steps) so that no case row
        # carries kernel loading / cuBLAS set-up. Its cache also tells the cache's layout.
        warm = serve_once(model, vocab, 1, 512 if not smoke else 16, 2, dev)
        row = {
            "kind": "model", "model": name, "model_type": model_type, "config": cfg,
            "gpu": gpu_name(dev), "gpu_total_bytes": gpu_total(dev),
            "context_bytes": context_bytes if first else None,
            "params": params, "weight_bytes": weight_bytes, "build_s": round(build_s, 2),
            "transformers": transformers.__version__, "torch": torch.__version__,
            # extras
            "param_bytes": sum(p.numel() * p.element_size() for p in model.parameters()),
            "device_used_start": used_start, "reserved_start": reserved_start,
            "attn_implementation": model.config._attn_implementation,
            "experts_implementation": getattr(model.config, "_experts_implementation", None),
            "warmup_prefill_s": warm["prefill_s"],
            "kv_layer0_shapes": warm["kv_layer0_shapes"],
        }
        if model_type == "deepseek_v2":
            tokens = 512 if not smoke else 16
            row.update(mla_layout_note(cfg, warm["kv_bytes_after_prefill"] // tokens))
            if is_cuda(dev):
                # transformers expands the latent to per-head K (nope+rope) and V before SDPA:
                # which kernel takes q/k head dim 192 with v head dim 128 (prefill, causal)?
                h, dqk = cfg["num_attention_heads"], cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]
                q = torch.empty(1, h, 256, dqk, dtype=DTYPE, device=dev)
                v = torch.empty(1, h, 256, cfg["v_head_dim"], dtype=DTYPE, device=dev)
                row["sdpa_backend_prefill"] = sdpa_choice(q, q, v, is_causal=True)
                del q, v
        w.row(row)
        first = False

        for batch, prompt in CASES:
            if smoke:
                batch, prompt = min(batch, 2), max(8, prompt // 512)
            case = {"kind": "case", "model": name, "batch": batch, "prompt": prompt,
                    "decode": DECODE_STEPS}
            if (name, batch, prompt) in skip_cases:
                w.row({**case, "ok": False, "error": "skipped"})
                continue
            log(f"{name} b{batch} p{prompt}")
            try:
                case.update(serve_once(model, vocab, batch, prompt, DECODE_STEPS, dev))
                case["ok"] = True
            except Exception as e:  # noqa: BLE001 - e.g. out of memory: recorded in the row
                traceback.print_exc()
                case.update(ok=False, error=error_text(e))
            gc.collect()
            if not case["ok"]:
                case.update(reserved_end=reserved(dev), device_used_end=device_used(dev))
            w.row(case)
        del model
        gc.collect()
        if is_cuda(dev):
            torch.cuda.empty_cache()


# ----------------------------------------------------------------------------------------------
# kind: decode (one CUDA-graph decode step of a Llama / Qwen2-shaped dense model)


class DenseDecodeStep:
    """Minimal decode step over a full static KV cache, written as an optimised engine runs it."""

    def __init__(self, spec, dev):
        s = spec
        self.s, self.dev = s, dev
        H, I, hd = s["hidden"], s["inter"], s["head_dim"]
        self.q_dim, self.kv_dim = s["heads"] * hd, s["kv_heads"] * hd

        def rand(*shape):
            return torch.empty(*shape, dtype=DTYPE, device=dev).normal_(0.0, 0.02)

        def ones(n):
            return torch.ones(n, dtype=DTYPE, device=dev)

        self.embed = rand(s["vocab"], H)
        self.layers = []
        for _ in range(s["layers"]):
            self.layers.append({
                "ln_in": ones(H),
                "wqkv": rand(self.q_dim + 2 * self.kv_dim, H),
                "bqkv": rand(self.q_dim + 2 * self.kv_dim) if s["qkv_bias"] else None,
                "wo": rand(H, self.q_dim),
                "ln_post": ones(H),
                "wgu": rand(2 * I, H),
                "wd": rand(H, I),
            })
        self.norm = ones(H)
        self.lm_head = rand(s["vocab"], H)
        self.kv = None

    def weight_tensors(self):
        yield self.embed
        for lw in self.layers:
            for t in lw.values():
                if t is not None:
                    yield t
        yield self.norm
        yield self.lm_head

    def weight_bytes(self):
        return sum(t.numel() * t.element_size() for t in self.weight_tensors())

    def set_cache(self, batch, context):
        """Full static cache: every layer's K and V hold `context` tokens; the step writes the
        newest token at position context - 1 and attends over all `context` positions."""
        s, hd = self.s, self.s["head_dim"]
        self.kv = None
        gc.collect()
        shape = (batch, s["kv_heads"], context, hd)
        self.kv = [(torch.empty(shape, dtype=DTYPE, device=self.dev).normal_(),
                    torch.empty(shape, dtype=DTYPE, device=self.dev).normal_())
                   for _ in range(s["layers"])]
        self.batch, self.pos = batch, context - 1
        # RoPE angles of the one position being decoded (rotate-half convention).
        inv = 1.0 / (s["theta"] ** (torch.arange(0, hd, 2, device=self.dev).float() / hd))
        ang = torch.cat([inv, inv]) * self.pos
        self.cos, self.sin = ang.cos().to(DTYPE), ang.sin().to(DTYPE)

    def kv_bytes(self):
        return sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in self.kv)

    def rope(self, x):
        x1, x2 = x.chunk(2, dim=-1)
        return x * self.cos + torch.cat((-x2, x1), dim=-1) * self.sin

    def step(self, tok):
        s, B, hd, pos = self.s, self.batch, self.s["head_dim"], self.pos
        H, nh, nkv = s["hidden"], s["heads"], s["kv_heads"]
        x = F.embedding(tok, self.embed)  # [B, H]
        for lw, (kc, vc) in zip(self.layers, self.kv):
            h = F.rms_norm(x, (H,), lw["ln_in"], s["eps"])
            q, k, v = F.linear(h, lw["wqkv"], lw["bqkv"]).split(
                [self.q_dim, self.kv_dim, self.kv_dim], dim=-1)
            q = self.rope(q.view(B, nh, 1, hd))
            k = self.rope(k.view(B, nkv, hd))
            kc[:, :, pos].copy_(k)
            vc[:, :, pos].copy_(v.view(B, nkv, hd))
            a = F.scaled_dot_product_attention(q, kc, vc, enable_gqa=nh != nkv)  # [B, nh, 1, hd]
            x = x + F.linear(a.reshape(B, nh * hd), lw["wo"])
            h = F.rms_norm(x, (H,), lw["ln_post"], s["eps"])
            g, u = F.linear(h, lw["wgu"]).chunk(2, dim=-1)
            x = x + F.linear(F.silu(g) * u, lw["wd"])
        h = F.rms_norm(x, (H,), self.norm, s["eps"])
        return F.linear(h, self.lm_head).argmax(-1)


def sdpa_choice(q, k, v, is_causal=False, enable_gqa=False):
    """Name of the SDPA backend PyTorch's default dispatch picks for these tensors."""
    try:
        from torch.nn.attention import SDPBackend
        idx = torch._fused_sdp_choice(q, k, v, is_causal=is_causal, enable_gqa=enable_gqa)
        return SDPBackend(idx).name
    except Exception as e:  # noqa: BLE001 - private API: informational only
        return f"unknown ({type(e).__name__})"


@torch.inference_mode()
def time_decode(m, dev, smoke):
    """Capture one step in a CUDA graph, replay; median over 7 rounds of 10 replays."""
    tok = torch.randint(0, m.s["vocab"], (m.batch,), device=dev)
    if is_cuda(dev):
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                m.step(tok)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            m.step(tok)
        run = graph.replay
    else:
        def run():
            m.step(tok)
    for _ in range(5):
        run()
    rounds, reps = (7, 10) if not smoke else (2, 2)
    times = []
    for _ in range(rounds):
        sync(dev)
        t0 = time.perf_counter()
        for _ in range(reps):
            run()
        sync(dev)
        times.append((time.perf_counter() - t0) / reps)
    if is_cuda(dev):
        del graph
    return statistics.median(times)


def run_decode(dev, w, smoke, only=None):
    for name, spec in DECODE_MODELS:
        if only and name not in only:
            continue
        if smoke:
            spec = dict(spec, layers=2, hidden=256, inter=512, heads=4,
                        kv_heads=2 if spec["kv_heads"] < spec["heads"] else 4, head_dim=64,
                        vocab=1024)
        gc.collect()
        if is_cuda(dev):
            torch.cuda.empty_cache()
        log(f"building decode module {name}")
        try:
            m = DenseDecodeStep(spec, dev)
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            w.row({"kind": "decode", "model": name, "ok": False, "error": error_text(e)})
            continue
        wbytes = m.weight_bytes()
        embed_bytes = m.embed.numel() * m.embed.element_size()
        for batch, context in DECODE_CASES + DECODE_EXTRA_CASES.get(name, []):
            if smoke:
                batch, context = min(batch, 2), context // 64
            kv_bytes = 2 * spec["layers"] * batch * spec["kv_heads"] * context * spec["head_dim"] * 2
            row = {"kind": "decode", "model": name, "batch": batch, "context": context,
                   "weight_bytes": wbytes, "kv_bytes": kv_bytes}
            if is_cuda(dev):
                m.kv = None
                gc.collect()
                torch.cuda.empty_cache()
                free = torch.cuda.mem_get_info()[0]
                margin = 2 << 30  # activations, graph pool, workspaces
                if kv_bytes + margin > free:
                    w.row({**row, "ok": False,
                           "error": f"skipped: KV {kv_bytes} B + 2 GiB margin > free {free} B"})
                    continue
            log(f"decode {name} b{batch} c{context}")
            try:
                m.set_cache(batch, context)
                k0, v0 = m.kv[0]
                q0 = torch.empty(batch, spec["heads"], 1, spec["head_dim"], dtype=DTYPE, device=dev)
                backend = sdpa_choice(q0, k0, v0, enable_gqa=spec["heads"] != spec["kv_heads"])
                step_s = time_decode(m, dev, smoke)
                bytes_per_step = wbytes - embed_bytes + m.kv_bytes()
                row.update(step_s=step_s, bytes_per_step=bytes_per_step,
                           achieved_bytes_per_s=bytes_per_step / step_s, ok=True,
                           sdpa_backend=backend, device_used=device_used(dev))
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                row.update(ok=False, error=error_text(e))
            m.kv = None
            w.row(row)
        del m
        gc.collect()
        if is_cuda(dev):
            torch.cuda.empty_cache()


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", choices=["transformers", "decode", "all"])
    ap.add_argument("out", help="JSONL file to append rows to")
    ap.add_argument("--smoke", action="store_true", help="tiny models and cases (code-path check)")
    ap.add_argument("--models", nargs="*", help="only these model names")
    ap.add_argument("--skip-case", action="append", default=[],
                    help="MODEL:BATCH:PROMPT to skip (written as ok: false), repeatable")
    ap.add_argument("--no-device-row", action="store_true")
    args = ap.parse_args()

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    context_bytes = None
    if is_cuda(dev):
        torch.zeros(1, device=dev)  # creates the CUDA context
        # CUDA context before any real allocation or library use (as the calibration's
        # context_bytes); later models' device_used_start shows it grown by cuBLAS & co.
        context_bytes = device_used(dev) - reserved(dev)
    log(f"device {gpu_name(dev)}, torch {torch.__version__}, context {context_bytes}")
    skip = {(s.split(":")[0], int(s.split(":")[1]), int(s.split(":")[2])) for s in args.skip_case}
    w = Writer(args.out)
    if not args.no_device_row:
        measure_device(dev, w, args.smoke)
    if args.part in ("transformers", "all"):
        run_transformers(dev, w, args.smoke, context_bytes, args.models, skip)
    if args.part in ("decode", "all"):
        run_decode(dev, w, args.smoke, args.models)


if __name__ == "__main__":
    main()
