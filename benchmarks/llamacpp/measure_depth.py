"""Run 7 (issue 12): llama.cpp at long context on one GPU. Each model's GGUF is written as in measure.py
(random weights through llama.cpp's converter; F16 for the small models, random Q8_0 blocks for the rest), then

- llama-bench pp512 and tg128 after 0, 4096, 16384 (and 32768) tokens of context (`-d`), in three attention
  set-ups: flash attention on with an F16 KV cache, flash attention on with a Q8_0 K and V cache, flash
  attention off with an F16 KV cache (a quantized V cache needs flash attention in llama.cpp);
- llama-batched-bench at 1, 4 and 16 sequences of 4096 prompt + 32 generated tokens (flash attention on, F16
  KV cache): batched decode with a long cache per sequence.

    python3 measure_depth.py OUTDIR DEADLINE_EPOCH

The jobs (model, format, depths) and their order are JOBS below; which are fit and which held out is written in
benchmarks/data/llamacpp-h200/README.md (run 7), decided before any row was compared with an estimate.
"""
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure as M  # noqa: E402  (the GGUF writer, run helper and paths of runs 1-6)

LONG, SHORT = "0,4096,16384,32768", "0,4096,16384"
JOBS = [  # (model, format the GGUF is written in, depths): in priority order
    ("r1-distill-qwen-1.5b", "f16", LONG),
    ("deepseek-coder-1.3b", "f16", LONG),
    ("r1-distill-qwen-7b", "q8_0", LONG),
    ("r1-distill-llama-8b", "q8_0", LONG),
    ("deepseek-v2-lite", "q8_0", LONG),
    ("deepseek-llm-7b", "q8_0", SHORT),
    ("r1-distill-qwen-14b", "q8_0", LONG),
    ("deepseek-moe-16b", "q8_0", SHORT),
]
SETUPS = [("1", "f16", "f16"), ("1", "q8_0", "q8_0"), ("0", "f16", "f16")]  # (flash attention, K type, V type)
BATCHED = dict(npp="4096", ntg="32", npl="1,4,16", ctx=str(16 * 4352))  # 4352 = 17 x 256 cells a sequence
KEEP = ("n_prompt", "n_gen", "n_depth", "avg_ts", "stddev_ts", "samples_ts", "flash_attn", "type_k", "type_v",
        "n_batch", "n_ubatch", "model_size", "model_n_params", "build_commit", "n_threads")


def producer(deadline, q, say):
    for name, fmt, depths in JOBS:
        if time.time() > deadline - 90:
            say(f"skip {name}: out of time")
            continue
        path = M.WORK / f"{name}-{fmt}.gguf"
        n = sum(int(__import__("math").prod(s)) for s in M.config_and_shapes(name)[1].values())
        if not M.wait_for(lambda: M.free_gb() > n * M.BPW[fmt] / 8 / 2**30 + 6, deadline - 90):
            say(f"skip {name}: no disk")
            continue
        t0 = time.time()
        try:
            M.make_gguf(name, fmt, path)
        except Exception as e:  # record and go on
            say(f"{name}: convert failed: {e!r}")
            continue
        say(f"{name}: {fmt} gguf {path.stat().st_size/2**30:.2f} GiB in {time.time()-t0:.0f} s")
        q.put((name, fmt, depths, path))
    q.put(None)


def bench(name, fmt, depths, path, smi, deadline, log, say):
    row = dict(model=name, quant=fmt, gpu=smi, gguf_bytes=path.stat().st_size, run=7, bench=[], bench_s=0.0)
    for fa, tk, tv in SETUPS:
        if time.time() > deadline - 45:
            say(f"skip {name} fa={fa} {tk}: out of time")
            continue
        rc, o, e, dt = M.run([str(M.BIN / "llama-bench"), "-m", str(path), "-ngl", "99", "-fa", fa, "-ctk", tk,
                              "-ctv", tv, "-p", "512", "-n", "128", "-d", depths, "-r", "2", "-o", "jsonl"],
                             max(30, min(300, deadline - 20 - time.time())))
        log.write(f"== {name} {fmt} fa={fa} k={tk} v={tv} llama-bench rc={rc} {dt:.0f}s\n{o}\n{e[-3000:]}\n")
        log.flush()
        got = [{k: b.get(k) for k in KEEP} for b in (json.loads(x) for x in o.splitlines() if x.startswith("{"))]
        row["bench"] += got
        row["bench_s"] += round(dt, 1)
        say(f"{name} fa={fa} kv={tk}: rc={rc} {dt:.0f}s " + " ".join(
            f"{'pp' if b['n_prompt'] else 'tg'}@{b['n_depth']}={b['avg_ts']:.0f}" for b in got))
    if time.time() < deadline - 40:
        rc, o, e, dt = M.run([str(M.BIN / "llama-batched-bench"), "-m", str(path), "-ngl", "99", "-fa", "on",
                              "-c", BATCHED["ctx"], "-b", "2048", "-ub", "512", "-npp", BATCHED["npp"],
                              "-ntg", BATCHED["ntg"], "-npl", BATCHED["npl"], "--output-format", "jsonl"],
                             max(30, min(200, deadline - 15 - time.time())))
        log.write(f"== {name} {fmt} batched-bench rc={rc} {dt:.0f}s\n{o}\n{e[-4000:]}\n")
        row["batched"] = [json.loads(x) for x in o.splitlines() if x.startswith("{")]
        row["buffers_batched"] = M.buffers(e)
        row["batched_s"] = round(dt, 1)
        say(f"{name} batched: rc={rc} {dt:.0f}s " + " ".join(
            f"pl{b['pl']} tg={b.get('speed_tg', 0):.0f}" for b in row["batched"]))
    return row


def main():
    outdir, deadline = Path(sys.argv[1]), float(sys.argv[2])
    res, log, say, smi = M.start_run(outdir)
    q = queue.Queue(maxsize=1)
    threading.Thread(target=producer, args=(deadline, q, say), daemon=True).start()
    if not M.build_ready(deadline):
        say("build failed or late")
        return
    while (item := q.get()) is not None:
        name, fmt, depths, path = item
        try:
            if time.time() < deadline - 45:
                row = bench(name, fmt, depths, path, smi, deadline, log, say)
                res.write(json.dumps(row) + "\n"); res.flush()
        except Exception as e:  # record and go on
            say(f"{name}: bench failed: {e!r}")
        path.unlink(missing_ok=True)
    say("done")


if __name__ == "__main__":
    main()
