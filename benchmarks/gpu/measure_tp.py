#!/usr/bin/env python3
"""Tensor-parallel decode steps and all-reduce latency on several GPUs of one host.

What the estimator assumes and nothing else had measured: the cost of tensor parallelism in a
decode step (two all-reduces per layer, NVLink latency 8 us in timing.ALLREDUCE_LATENCY_S).

    torchrun --nproc_per_node 2 measure_tp.py OUT.jsonl [--smoke]

Rows (rank 0 writes them):
kind: device      gpu, gpus (the world size), nccl version.
kind: allreduce   one bf16 all-reduce of `bytes` across all GPUs, captured 100 times in one CUDA
                  graph and replayed; seconds is the median over 7 rounds of 5 replays / 100.
kind: decode      as measure.py's decode rows (same models, same step, one CUDA graph), with
                  `tp` GPUs: heads, KV heads, the MLP's intermediate width and the vocabulary are
                  split across ranks as vLLM splits them; an all-reduce follows the attention output
                  projection and the MLP's down projection; the sharded logits are all-gathered
                  for the argmax. weight_bytes and kv_bytes are per GPU.
"""

import argparse
import os
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import DECODE_MODELS, DTYPE, DenseDecodeStep, Writer, error_text, log, time_decode  # noqa: E402

CASES = [(1, 1024), (1, 8192), (8, 2048), (32, 1024), (64, 2048)]
MODELS = ("r1-distill-qwen-1.5b", "r1-distill-llama-8b", "r1-distill-qwen-32b")


class TPDecodeStep(DenseDecodeStep):
    """measure.DenseDecodeStep on one rank of `tp`: the shard's shapes, plus the collectives."""

    def __init__(self, spec, dev, tp):
        shard = dict(spec, heads=spec["heads"] // tp, kv_heads=max(1, spec["kv_heads"] // tp),
                     inter=spec["inter"] // tp, vocab=spec["vocab"] // tp)
        super().__init__(shard, dev)
        self.tp = tp

    def step(self, tok):
        s, B, hd, pos = self.s, self.batch, self.s["head_dim"], self.pos
        H, nh, nkv = s["hidden"], s["heads"], s["kv_heads"]
        x = F.embedding(tok % s["vocab"], self.embed)  # vocab-parallel gather (masking left out)
        for lw, (kc, vc) in zip(self.layers, self.kv):
            h = F.rms_norm(x, (H,), lw["ln_in"], s["eps"])
            q, k, v = F.linear(h, lw["wqkv"], lw["bqkv"]).split([self.q_dim, self.kv_dim, self.kv_dim], dim=-1)
            q = self.rope(q.view(B, nh, 1, hd))
            k = self.rope(k.view(B, nkv, hd))
            kc[:, :, pos].copy_(k)
            vc[:, :, pos].copy_(v.view(B, nkv, hd))
            a = F.scaled_dot_product_attention(q, kc, vc, enable_gqa=nh != nkv)
            o = F.linear(a.reshape(B, nh * hd), lw["wo"])
            dist.all_reduce(o)
            x = x + o
            h = F.rms_norm(x, (H,), lw["ln_post"], s["eps"])
            g, u = F.linear(h, lw["wgu"]).chunk(2, dim=-1)
            d = F.linear(F.silu(g) * u, lw["wd"])
            dist.all_reduce(d)
            x = x + d
        h = F.rms_norm(x, (H,), self.norm, s["eps"])
        local = F.linear(h, self.lm_head)  # [B, vocab / tp]
        full = torch.empty(self.tp, *local.shape, dtype=local.dtype, device=local.device)
        dist.all_gather_into_tensor(full, local)
        return full.permute(1, 0, 2).reshape(B, -1).argmax(-1)


@torch.inference_mode()
def time_allreduce(nbytes, dev, calls=100):
    x = torch.zeros(max(1, nbytes // 2), dtype=DTYPE, device=dev)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            dist.all_reduce(x)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(calls):
            dist.all_reduce(x)
    for _ in range(3):
        graph.replay()
    times = []
    for _ in range(7):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(5):
            graph.replay()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) / 5 / calls)
    del graph
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", rank)))
    dev = torch.device("cuda", torch.cuda.current_device())
    dist.init_process_group("nccl", device_id=dev)
    w = Writer(args.out) if rank == 0 else None

    def row(obj):
        if w is not None:
            w.row(obj)

    row({"kind": "device", "gpu": torch.cuda.get_device_name(), "gpus": world,
         "nccl": ".".join(map(str, torch.cuda.nccl.version())), "torch": torch.__version__})
    for nbytes in (8 << 10, 64 << 10, 640 << 10, 8 << 20):
        try:
            row({"kind": "allreduce", "gpus": world, "bytes": nbytes, "seconds": time_allreduce(nbytes, dev),
                 "ok": True})
        except Exception as e:  # noqa: BLE001
            row({"kind": "allreduce", "gpus": world, "bytes": nbytes, "ok": False, "error": error_text(e)})
    for name, spec in DECODE_MODELS:
        if name not in MODELS:
            continue
        if args.smoke:
            spec = dict(spec, layers=2, hidden=256, inter=512, heads=4, kv_heads=2, head_dim=64, vocab=1024)
        log(f"rank {rank}: building {name} / tp {world}")
        m = TPDecodeStep(spec, dev, world)
        wbytes = m.weight_bytes()
        for batch, context in CASES:
            if args.smoke:
                batch, context = min(batch, 2), context // 64
            r = {"kind": "decode", "model": name, "tp": world, "batch": batch, "context": context,
                 "weight_bytes": wbytes}
            try:
                m.set_cache(batch, context)
                dist.barrier()
                step = time_decode(m, dev, args.smoke)
                # every rank timed the same graph; the slowest is the step
                t = torch.tensor([step], device=dev)
                dist.all_reduce(t, op=dist.ReduceOp.MAX)
                r.update(step_s=t.item(), kv_bytes=m.kv_bytes(), ok=True)
            except Exception as e:  # noqa: BLE001
                r.update(ok=False, error=error_text(e))
            m.kv = None
            torch.cuda.empty_cache()
            row(r)
        del m
        torch.cuda.empty_cache()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
