"""llama.cpp measured on a GPU machine: random-weight GGUFs of real DeepSeek architectures, converted by
llama.cpp's own converter (the tensor layout of the released checkpoints), quantized by llama-quantize and timed
by llama-bench (pp512, pp2048, tg128, tg128 after 8192 tokens) and llama-batched-bench (1-64 sequences).
Random weights cost the same memory and time as trained ones. Called by run.sh after it builds llama.cpp.

  python3 measure.py OUTDIR DEADLINE_EPOCH model:quant[,quant] ...

Add an architecture to DENSE (or write its tensor shapes as config_and_shapes does for deepseek-v2 MLA/MoE).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

SRC = Path("/tmp/lc")            # unpacked llama.cpp source (run.sh)
BIN = Path("/tmp/lcbuild/bin")
WORK = Path("/tmp/lcg")
sys.path[:0] = [str(SRC), str(SRC / "gguf-py")]

DENSE = {
    # name: (architecture, model_type, hidden, intermediate, layers, heads, kv_heads, vocab, rope_theta, ctx)
    # from each released config.json
    "r1-distill-qwen-7b": ("Qwen2ForCausalLM", "qwen2", 3584, 18944, 28, 28, 4, 152064, 10000.0, 131072),
    "r1-distill-qwen-32b": ("Qwen2ForCausalLM", "qwen2", 5120, 27648, 64, 40, 8, 152064, 1000000.0, 131072),
    "deepseek-coder-6.7b": ("LlamaForCausalLM", "llama", 4096, 11008, 32, 32, 32, 32256, 100000.0, 16384),
    "deepseek-llm-7b": ("LlamaForCausalLM", "llama", 4096, 11008, 30, 32, 32, 102400, 10000.0, 4096),
    # run 4
    "r1-distill-qwen-1.5b": ("Qwen2ForCausalLM", "qwen2", 1536, 8960, 28, 12, 2, 151936, 10000.0, 131072),
    "r1-distill-qwen-14b": ("Qwen2ForCausalLM", "qwen2", 5120, 13824, 48, 40, 8, 152064, 1000000.0, 131072),
    "deepseek-coder-1.3b": ("LlamaForCausalLM", "llama", 2048, 5504, 24, 16, 16, 32256, 100000.0, 16384),
    "r1-distill-llama-8b": ("LlamaForCausalLM", "llama", 4096, 14336, 32, 32, 8, 128256, 500000.0, 131072),
    # a probe, no released model: R1-Distill-Qwen-7B's shapes in llama.cpp's llama graph (no q/k/v biases), to
    # tell the architecture's per-layer cost from the shapes' bandwidth
    "probe-qwen7b-llama-arch": ("LlamaForCausalLM", "llama", 3584, 18944, 28, 28, 4, 152064, 10000.0, 131072),
    # run 11 (catalog/models/released: coder.yaml, small-2025.yaml): GQA 7 over 8 KV heads, MQA (32 over 1), and
    # Qwen3 (GQA 4 over 8, with per-head q / k norms)
    "deepseek-coder-33b": ("LlamaForCausalLM", "llama", 7168, 19200, 62, 56, 8, 32256, 100000.0, 16384),
    "deepseek-coder-5.7bmqa": ("LlamaForCausalLM", "llama", 4096, 11008, 32, 32, 1, 32256, 100000.0, 16384),
    "deepseek-r1-0528-qwen3-8b": ("Qwen3ForCausalLM", "qwen3", 4096, 12288, 36, 32, 8, 151936, 1000000.0, 40960),
}
EXTRA = {  # config.json keys beyond DENSE's columns, from the released configs
    "r1-distill-llama-8b": dict(rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                                  high_freq_factor=4.0, original_max_position_embeddings=8192)),
}
V2_LITE = dict(architectures=["DeepseekV2ForCausalLM"], model_type="deepseek_v2", hidden_size=2048,
               intermediate_size=10944, moe_intermediate_size=1408, num_hidden_layers=27, num_attention_heads=16,
               num_key_value_heads=16, n_routed_experts=64, n_shared_experts=2, num_experts_per_tok=6,
               first_k_dense_replace=1, moe_layer_freq=1, kv_lora_rank=512, q_lora_rank=None, qk_nope_head_dim=128,
               qk_rope_head_dim=64, v_head_dim=128, vocab_size=102400, max_position_embeddings=163840,
               rms_norm_eps=1e-6, rope_theta=10000, norm_topk_prob=False, scoring_func="softmax",
               routed_scaling_factor=1.0, topk_method="greedy", n_group=1, topk_group=1, ep_size=1,
               tie_word_embeddings=False, torch_dtype="bfloat16",
               rope_scaling=dict(type="yarn", factor=40, original_max_position_embeddings=4096, beta_fast=32,
                                 beta_slow=1, mscale=0.707, mscale_all_dim=0.707))


MOE16 = dict(architectures=["DeepseekForCausalLM"], model_type="deepseek", hidden_size=2048, intermediate_size=10944,
             moe_intermediate_size=1408, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=16,
             n_routed_experts=64, n_shared_experts=2, num_experts_per_tok=6, first_k_dense_replace=1,
             moe_layer_freq=1, vocab_size=102400, max_position_embeddings=4096, rms_norm_eps=1e-6,
             rope_theta=10000, scoring_func="softmax", norm_topk_prob=False, tie_word_embeddings=False,
             torch_dtype="bfloat16", hidden_act="silu")  # deepseek-ai/deepseek-moe-16b-base config.json


def moe16_shapes():
    """DeepSeekMoE 16B: MHA (q/k/v/o), layer 0 dense MLP, layers 1-27 64 routed + 2 shared experts."""
    c = MOE16
    H, V, L, nh = c["hidden_size"], c["vocab_size"], c["num_hidden_layers"], c["num_attention_heads"]
    shapes = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,), "lm_head.weight": (V, H)}
    for i in range(L):
        p = f"model.layers.{i}."
        shapes.update({p + "input_layernorm.weight": (H,), p + "post_attention_layernorm.weight": (H,),
                       p + "self_attn.q_proj.weight": (H, H), p + "self_attn.k_proj.weight": (H, H),
                       p + "self_attn.v_proj.weight": (H, H), p + "self_attn.o_proj.weight": (H, H)})
        shapes.update(mlp_shapes(c, i, p, H))
    return dict(c), shapes


def mlp_shapes(c, i, p, H):
    """Layer ``i``'s MLP tensors: dense for the first ``first_k_dense_replace`` layers, else the router,
    every routed expert and the shared experts (DeepSeek-MoE and V2 name them alike)."""
    if i < c["first_k_dense_replace"]:
        I = c["intermediate_size"]
        return {p + "mlp.gate_proj.weight": (I, H), p + "mlp.up_proj.weight": (I, H), p + "mlp.down_proj.weight": (H, I)}
    I, S = c["moe_intermediate_size"], c["moe_intermediate_size"] * c["n_shared_experts"]
    shapes = {p + "mlp.gate.weight": (c["n_routed_experts"], H)}
    for e in range(c["n_routed_experts"]):
        q = f"{p}mlp.experts.{e}."
        shapes.update({q + "gate_proj.weight": (I, H), q + "up_proj.weight": (I, H), q + "down_proj.weight": (H, I)})
    shapes.update({p + "mlp.shared_experts.gate_proj.weight": (S, H), p + "mlp.shared_experts.up_proj.weight": (S, H),
                   p + "mlp.shared_experts.down_proj.weight": (H, S)})
    return shapes


def config_and_shapes(name):
    if name == "deepseek-moe-16b":
        return moe16_shapes()
    if name in ("deepseek-v2-lite", "deepseek-v2-lite-like"):  # MLA + MoE: the checkpoint's tensor names and shapes
        c = V2_LITE
        H, V, L = c["hidden_size"], c["vocab_size"], c["num_hidden_layers"]
        nh, r, nope, rope, vd = 16, 512, 128, 64, 128
        shapes = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,), "lm_head.weight": (V, H)}
        for i in range(L):
            p = f"model.layers.{i}."
            shapes.update({p + "input_layernorm.weight": (H,), p + "post_attention_layernorm.weight": (H,),
                           p + "self_attn.q_proj.weight": (nh * (nope + rope), H),
                           p + "self_attn.kv_a_proj_with_mqa.weight": (r + rope, H),
                           p + "self_attn.kv_a_layernorm.weight": (r,),
                           p + "self_attn.kv_b_proj.weight": (nh * (nope + vd), r),
                           p + "self_attn.o_proj.weight": (H, nh * vd)})
            shapes.update(mlp_shapes(c, i, p, H))
        return dict(c), shapes
    arch, mt, H, I, L, nh, nkv, V, theta, ctx = DENSE[name]
    hd = H // nh
    cfg = dict(architectures=[arch], model_type=mt, hidden_size=H, intermediate_size=I, num_hidden_layers=L,
               num_attention_heads=nh, num_key_value_heads=nkv, vocab_size=V, rope_theta=theta,
               max_position_embeddings=ctx, rms_norm_eps=1e-6 if mt in ("qwen2", "qwen3") else 1e-5,
               tie_word_embeddings=False, torch_dtype="bfloat16", hidden_act="silu")
    if mt in ("qwen2", "qwen3"):
        cfg.update(use_sliding_window=False, sliding_window=ctx, max_window_layers=L)
    if mt == "qwen3":
        cfg.update(head_dim=hd, attention_bias=False)
    cfg.update(EXTRA.get(name, {}))
    shapes = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,), "lm_head.weight": (V, H)}
    for i in range(L):
        p = f"model.layers.{i}."
        shapes.update({p + "input_layernorm.weight": (H,), p + "post_attention_layernorm.weight": (H,),
                       p + "self_attn.q_proj.weight": (nh * hd, H), p + "self_attn.k_proj.weight": (nkv * hd, H),
                       p + "self_attn.v_proj.weight": (nkv * hd, H), p + "self_attn.o_proj.weight": (H, nh * hd),
                       p + "mlp.gate_proj.weight": (I, H), p + "mlp.up_proj.weight": (I, H),
                       p + "mlp.down_proj.weight": (H, I)})
        if mt == "qwen3":  # per-head RMS norms of q and k, no biases
            shapes.update({p + "self_attn.q_norm.weight": (hd,), p + "self_attn.k_norm.weight": (hd,)})
        if mt == "qwen2":
            shapes.update({p + "self_attn.q_proj.bias": (nh * hd,), p + "self_attn.k_proj.bias": (nkv * hd,),
                           p + "self_attn.v_proj.bias": (nkv * hd,)})
    return cfg, shapes


def make_gguf(name, outtype, path):
    import torch
    import gguf
    from conversion import get_model_class
    cfg, shapes = config_and_shapes(name)
    d = WORK / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps(cfg))
    base = get_model_class(cfg["architectures"][0])
    gen = torch.Generator(device="cuda").manual_seed(0)

    def rnd(shape):
        # float16, not bfloat16: the converter keeps float16 as it is instead of copying it to float32
        if len(shape) == 1:
            return torch.ones(shape, dtype=torch.float16)
        return (torch.randn(shape, generator=gen, device="cuda", dtype=torch.float16) * 0.02).cpu()

    gguf.quants.quantize = fast_random_q8_0(gguf.quants.quantize, gguf.GGMLQuantizationType.Q8_0)

    class Random(base):
        model_arch = base.model_arch

        def index_tensors(self, remote_hf_model_id=None):
            out = {}
            for n, s in shapes.items():
                item = self.filter_tensors((n, lambda s=s: rnd(s)))
                if item:
                    out[item[0]] = item[1]
            return out

        def set_vocab(self):
            self.gguf_writer.add_tokenizer_model("none")
            try:
                self.gguf_writer.add_vocab_size(cfg["vocab_size"])
            except Exception:
                pass

    ftype = {"f16": gguf.LlamaFileType.MOSTLY_F16, "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[outtype]
    with torch.inference_mode():
        m = Random(d, ftype, path, eager=True, model_name=name)
        m.write()


def fast_random_q8_0(quantize, q8_0):
    """gguf-py quantizes Q8_0 in numpy (minutes for a 32B model); the values are random anyway, so write random
    Q8_0 blocks (an f16 scale, then 32 int8) made on the GPU. Same bytes and types as a real conversion."""
    import numpy as np
    import torch

    def fast(data, qtype):
        if qtype != q8_0 or data.shape[-1] % 32:
            return quantize(data, qtype)
        *lead, n = data.shape
        rows, nb = int(np.prod(lead)) if lead else 1, n // 32
        blocks = torch.randint(-64, 64, (rows, nb, 34), dtype=torch.int8, device="cuda")
        scale = torch.full((rows, nb, 1), 0.02 * 2 / 64, dtype=torch.float16, device="cuda")
        blocks[..., :2] = scale.view(torch.int8)
        return blocks.view(torch.uint8).cpu().numpy().reshape(*lead, nb * 34)
    return fast


def buffers(log):
    """llama.cpp's own account of what it allocated on the GPU, MiB."""
    out = {}
    for key, pat in [("model_mib", r"CUDA0 model buffer size\s*=\s*([\d.]+) MiB"),
                     ("kv_mib", r"CUDA0 KV buffer size\s*=\s*([\d.]+) MiB"),
                     ("compute_mib", r"CUDA0 compute buffer size\s*=\s*([\d.]+) MiB"),
                     ("host_model_mib", r"CPU_Mapped model buffer size\s*=\s*([\d.]+) MiB")]:
        vals = [float(x) for x in re.findall(pat, log)]
        if vals:
            out[key] = vals[-1] if key != "model_mib" else sum(vals)
    return out


def run(cmd, timeout):
    t = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.time() - t
    except subprocess.TimeoutExpired as e:
        return 124, (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""), \
            "timeout", time.time() - t


def tensor_classes(path):
    """Bytes, elements and GGML types per tensor class ('blk.N.' stripped) as the GGUF file stores them:
    the true bits per weight of each class in this format's mix."""
    import gguf
    r = gguf.GGUFReader(str(path))
    out = {}
    for t in r.tensors:
        cls = re.sub(r"^blk\.\d+\.", "", t.name)
        c = out.setdefault(cls, {"bytes": 0, "elements": 0, "types": {}})
        c["bytes"] += int(t.n_bytes)
        c["elements"] += int(t.n_elements)
        ty = t.tensor_type.name
        c["types"][ty] = c["types"].get(ty, 0) + 1
    return out


# Expert offload (routed experts in host memory, `-ncmoe`): measured on this model and format right after its
# own benchmark, while the producer waits (quantizing would steal the CPU the experts run on).
OFFLOAD = ("none", "none")  # measured in run 3 (deepseek-v2-lite q4_k_m); not again
OFFLOAD_DONE = __import__("threading").Event()


def host_memory():
    """The host's CPU and a STREAM-like memory bandwidth: a 1 GiB float32 copy (read + write bytes) and sum (read
    bytes), best of 5, at 1, 4, 8 and all threads."""
    import torch
    info = {"lscpu": subprocess.run(["lscpu"], capture_output=True, text=True).stdout,
            "meminfo": Path("/proc/meminfo").read_text().splitlines()[:3], "nproc": os.cpu_count()}
    n = 2**28
    a, b = torch.ones(n), torch.empty(n)
    res = []
    for th in sorted({1, 4, 8, os.cpu_count() or 8}):
        torch.set_num_threads(th)
        for op, nbytes, fn in (("copy", 8 * n, lambda: b.copy_(a)), ("sum", 4 * n, lambda: a.sum())):
            fn()
            best = min(timed(fn) for _ in range(5))
            res.append({"threads": th, "op": op, "bytes": nbytes, "s": best, "bytes_per_s": nbytes / best})
    info["bandwidth"] = res
    return info


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def offload_bench(path, log):
    """tg128 and pp512 with the routed experts of all (27) or the first 14 layers in host memory, 8 and 16
    threads; then pp512 with op offload off (the CPU computes the experts for the prompt too)."""
    rows = []
    for extra in (["-ncmoe", "27,14", "-t", "8,16", "-p", "512", "-n", "128"],
                  ["-ncmoe", "27", "-t", "16", "-nopo", "1", "-p", "512", "-n", "0"]):
        rc, o, e, dt = run([str(BIN / "llama-bench"), "-m", str(path), "-ngl", "99", "-fa", "1", "-r", "2",
                            "-o", "jsonl", "-v"] + extra, 300)
        log.write(f"== offload {extra} rc={rc} {dt:.0f}s\n{o}\n{e[:16000]}\n...\n{e[-6000:]}\n")
        rows += [json.loads(x) for x in o.splitlines() if x.startswith("{")]
    return rows


BPW = {"f16": 16, "bf16": 16, "q8_0": 8.5, "q6_k": 6.6, "q5_k_m": 5.7, "q4_k_m": 4.9, "q4_0": 4.5, "iq4_xs": 4.3,
       "q3_k_m": 3.9, "q2_k": 2.6}
BENCHED = set()   # source GGUFs the consumer is done with
# F16 would not fit the disk beside its quantized copies (32B), or takes longer to write: random Q8_0 blocks
BIG_Q8_SOURCE = ("r1-distill-qwen-32b", "r1-distill-qwen-14b", "deepseek-moe-16b", "deepseek-v2-lite")
# run 4: batch sizes on both sides of every MMQ tile width (8-column steps) and of MMVQ's 8, up to 128
NPL = os.environ.get("LCPP_NPL", "1,2,3,4,6,8,9,12,16,24,32,48,64,128")  # run 8: LCPP_NPL=1,4,16,64
BATCHED_CTX = "83968"   # 128 x (512 + 128) = 81,920 cells; 656 a sequence as in runs 1-3 (41,984 / 64)


def free_gb():
    return shutil.disk_usage(str(WORK)).free / 2**30


def wait_for(cond, deadline, step=2.0):
    while not cond():
        if time.time() > deadline:
            return False
        time.sleep(step)
    return True


def build_ready(deadline):
    ok = wait_for(lambda: Path("/tmp/build.ok").exists() or Path("/tmp/build.fail").exists(), deadline)
    return ok and Path("/tmp/build.ok").exists()


def producer(jobs, deadline, q, say):
    """Makes each model's source GGUF, then its quantized copies, one ahead of the benchmarks (disk allowing)."""
    for job in jobs:
        name, quants = job.split(":")
        quants = quants.split(",")
        if time.time() > deadline - 120:
            say(f"skip {job}: out of time")
            continue
        first = "q8_0" if name in BIG_Q8_SOURCE else "f16"
        n = sum(int(__import__("math").prod(s)) for s in config_and_shapes(name)[1].values())
        src = WORK / f"{name}-{first}.gguf"
        if not wait_for(lambda: free_gb() > n * BPW[first] / 8 / 2**30 + 6, deadline - 120):
            say(f"skip {job}: no disk")
            continue
        t0 = time.time()
        try:
            make_gguf(name, first, src)
        except Exception as e:  # record and go on
            say(f"{name}: convert failed: {e!r}")
            continue
        say(f"{name}: {first} gguf {src.stat().st_size/2**30:.2f} GiB in {time.time()-t0:.0f} s")
        if not build_ready(deadline):
            say("build failed or late")
            src.unlink(missing_ok=True)
            break
        for qn in quants:
            if time.time() > deadline - 60:
                say(f"skip {name} {qn}: out of time")
                break
            if qn == first:
                q.put((name, qn, src, True))
                continue
            need = n * BPW.get(qn, 8) / 8 / 2**30 + 5
            wait_for(lambda: q.qsize() == 0 and free_gb() > need, deadline - 60)
            path = WORK / f"{name}-{qn}.gguf"
            t1 = time.time()
            rc, o, e, dt = run([str(BIN / "llama-quantize"), "--allow-requantize", str(src), str(path), qn.upper(),
                                str(max(4, (os.cpu_count() or 8) - 2))], 600)
            if rc != 0:
                say(f"{name} {qn}: quantize failed rc={rc}: {e[-300:]}")
                path.unlink(missing_ok=True)
                continue
            say(f"{name} {qn}: quantized in {time.time()-t1:.0f} s")
            q.put((name, qn, path, False))
            if (name, qn) == OFFLOAD:
                OFFLOAD_DONE.wait(max(1.0, deadline - 60 - time.time()))
        # free the source's disk for the next model as soon as its own benchmark (if any) is done
        if first in quants:
            wait_for(lambda: src in BENCHED, deadline)
        src.unlink(missing_ok=True)
    q.put(None)


def bench(name, qn, path, smi, deadline, log):
    row = dict(model=name, quant=qn, gpu=smi, gguf_bytes=path.stat().st_size, tensor_classes=tensor_classes(path),
               run=int(os.environ.get("RUN", 5)))
    rc, o, e, dt = run([str(BIN / "llama-bench"), "-m", str(path), "-ngl", "99", "-fa", "1", "-p", "512,2048",
                        "-n", "128", "-d", "0,8192", "-r", "3", "-o", "jsonl"], 420)
    log.write(f"== {name} {qn} llama-bench rc={rc} {dt:.0f}s\n{o}\n{e[-3000:]}\n")
    keep = ("n_prompt", "n_gen", "n_depth", "avg_ts", "stddev_ts", "flash_attn", "n_batch", "n_ubatch", "type_k",
            "model_size", "model_n_params", "build_commit", "build_number", "n_threads", "cuda")
    row["bench"] = [{k: b.get(k) for k in keep}
                    for b in (json.loads(x) for x in o.splitlines() if x.startswith("{"))]
    row["bench_s"] = round(dt, 1)
    if time.time() < deadline - 30:
        rc, o, e, dt = run([str(BIN / "llama-batched-bench"), "-m", str(path), "-ngl", "99", "-fa", "on",
                            "-c", BATCHED_CTX, "-b", "2048", "-ub", "512", "-npp", "512", "-ntg", "128",
                            "-npl", NPL, "--output-format", "jsonl"], 480)
        log.write(f"== {name} {qn} batched-bench rc={rc} {dt:.0f}s\n{o}\n{e[-6000:]}\n")
        row["batched"] = [json.loads(x) for x in o.splitlines() if x.startswith("{")]
        row["buffers_ctx41984"] = buffers(e)
        row["batched_s"] = round(dt, 1)
    return row


def offload(name, qn, path, smi, log, say):
    host = host_memory()
    best = max((r["bytes_per_s"] for r in host["bandwidth"] if r["op"] == "sum"), default=0)
    say(f"host read bandwidth {best/1e9:.1f} GB/s")
    rows = offload_bench(path, log)
    with open(Path(log.name).parent / "offload-results.jsonl", "a") as f:
        f.write(json.dumps(dict(model=name, quant=qn, gpu=smi, host=host, bench=rows)) + "\n")
    say("offload: " + "; ".join(f"ncmoe {r.get('n_cpu_moe')} t {r.get('n_threads')} nopo {r.get('no_op_offload')} "
                                f"p{r.get('n_prompt')} n{r.get('n_gen')} {r.get('avg_ts', 0):.1f}" for r in rows))


def consumer(q, smi, deadline, res, log, say):
    # the kernel timings (pipeline.sh, KERNELS) have the GPU to themselves
    wait_for(lambda: Path("/tmp/kernels.done").exists() or not os.environ.get("KERNELS"), deadline)
    while True:
        item = q.get()
        if item is None:
            return
        name, qn, path, is_src = item
        try:
            if time.time() < deadline - 40:
                row = bench(name, qn, path, smi, deadline, log)
                res.write(json.dumps(row) + "\n"); res.flush(); log.flush()
                tg = [b["avg_ts"] for b in row["bench"] if b.get("n_gen") == 128 and not b.get("n_depth")]
                pp = [round(b["avg_ts"]) for b in row["bench"] if b.get("n_prompt") and not b.get("n_depth")]
                say(f"{name} {qn}: {row['gguf_bytes']/2**30:.2f} GiB pp {pp} tg128 {tg}")
                if (name, qn) == OFFLOAD:
                    offload(name, qn, path, smi, log, say)
            else:
                say(f"skip bench {name} {qn}: out of time")
        except Exception as e:  # record and go on
            say(f"{name} {qn}: bench failed: {e!r}")
        if (name, qn) == OFFLOAD:
            OFFLOAD_DONE.set()
        if is_src:
            BENCHED.add(path)
        else:
            path.unlink(missing_ok=True)


def start_run(outdir: Path):
    """(results file, log file, say, GPU line) of a run writing into ``outdir``: ``say`` prints a progress line
    with the seconds since the start and appends it to progress.txt (runs 1-7 share this start)."""
    WORK.mkdir(parents=True, exist_ok=True)
    res, log, prog = (open(outdir / f, "a") for f in ("lcpp-results.jsonl", "lcpp-log.txt", "progress.txt"))
    t0 = time.time()

    def say(msg):
        line = f"[{time.time()-t0:5.0f}s] {msg}"
        print(line, flush=True)
        prog.write(line + "\n"); prog.flush()

    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
    return res, log, say, smi


def main():
    import queue
    import threading
    outdir, deadline, jobs = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
    res, log, say, smi = start_run(outdir)
    q = queue.Queue(maxsize=2)
    th = threading.Thread(target=producer, args=(jobs, deadline, q, say), daemon=True)
    th.start()
    consumer(q, smi, deadline, res, log, say)
    say("done")


if __name__ == "__main__":
    main()
