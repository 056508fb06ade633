"""Run 11 (issue 12): llama.cpp's decode at depth on models whose query heads share a KV head more than 4 ways (the
tensor-core flash-attention kernel past 8,192 cached tokens), with GQA-4 controls (the vector kernel).

Each model's GGUF is written as in measure.py (random weights through llama.cpp's converter; F16 for the 1.5B,
random Q8_0 blocks for the rest), then timed by llama-bench tg128 after 0, 8192, 16384 and 32768 cached tokens
(`-p 0 -n 128 -d ... -r 3`, flash attention on) with an F16 cache, and with a Q8_0 K and V cache where JOBS says.
Unlike run 7, no GGUF is written while a benchmark runs (run 7 saw two rows' repetitions disagree by ~15 % while
the CPU wrote a GGUF): the files that fit the disk are written while llama.cpp builds, the rest one at a time
between benchmarks.

    python3 measure_depth11.py OUTDIR DEADLINE_EPOCH

Which rows are fit and which held out is written in benchmarks/data/llamacpp-h200/README.md (run 11), decided
before any row was measured.
"""
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure as M  # noqa: E402  (the GGUF writer, run helper and paths of runs 1-10)

DEPTHS = "0,8192,16384,32768"
JOBS = [  # (model, format the GGUF is written in, KV cache types): in priority order
    ("r1-distill-qwen-1.5b", "f16", ("f16",)),
    ("deepseek-coder-5.7bmqa", "q8_0", ("f16", "q8_0")),
    ("r1-distill-qwen-7b", "q8_0", ("f16",)),
    ("deepseek-r1-0528-qwen3-8b", "q8_0", ("f16", "q8_0")),
    ("r1-distill-qwen-14b", "q8_0", ("f16",)),
    ("deepseek-coder-33b", "q8_0", ("f16",)),
    ("r1-distill-qwen-32b", "q8_0", ("f16",)),
    ("r1-distill-llama-8b", "q8_0", ("f16",)),
]
KEEP = ("n_prompt", "n_gen", "n_depth", "avg_ts", "stddev_ts", "samples_ts", "flash_attn", "type_k", "type_v",
        "n_batch", "n_ubatch", "model_size", "model_n_params", "build_commit", "n_threads")


def gib(name, fmt):
    n = sum(math.prod(s) for s in M.config_and_shapes(name)[1].values())
    return n * M.BPW[fmt] / 8 / 2**30


def write(name, fmt, say):
    path = M.WORK / f"{name}-{fmt}.gguf"
    t0 = time.time()
    try:
        M.make_gguf(name, fmt, path)
    except Exception as e:  # record and go on
        say(f"{name}: convert failed: {e!r}")
        path.unlink(missing_ok=True)
        return None
    say(f"{name}: {fmt} gguf {path.stat().st_size / 2**30:.2f} GiB in {time.time() - t0:.0f} s")
    return path


def bench(name, fmt, kvs, path, smi, deadline, log, say):
    row = dict(model=name, quant=fmt, gpu=smi, gguf_bytes=path.stat().st_size, run=11, bench=[], bench_s=0.0)
    for kv in kvs:
        if time.time() > deadline - 40:
            say(f"skip {name} kv={kv}: out of time")
            continue
        rc, o, e, dt = M.run([str(M.BIN / "llama-bench"), "-m", str(path), "-ngl", "99", "-fa", "1", "-ctk", kv,
                              "-ctv", kv, "-p", "0", "-n", "128", "-d", DEPTHS, "-r", "3", "-o", "jsonl"],
                             max(30, min(300, deadline - 15 - time.time())))
        log.write(f"== {name} {fmt} fa=1 k={kv} v={kv} llama-bench rc={rc} {dt:.0f}s\n{o}\n{e[-3000:]}\n")
        log.flush()
        got = [{k: b.get(k) for k in KEEP} for b in (json.loads(x) for x in o.splitlines() if x.startswith("{"))]
        row["bench"] += got
        row["bench_s"] += round(dt, 1)
        say(f"{name} kv={kv}: rc={rc} {dt:.0f}s " + " ".join(f"tg@{b['n_depth']}={b['avg_ts']:.1f}" for b in got))
    return row


def main():
    outdir, deadline = Path(sys.argv[1]), float(sys.argv[2])
    res, log, say, smi = M.start_run(outdir)
    paths = {}
    for name, fmt, _ in JOBS:  # while llama.cpp builds: write what the disk holds (keep 8 GiB spare)
        if Path("/tmp/build.ok").exists() or Path("/tmp/build.fail").exists() or M.free_gb() < gib(name, fmt) + 8:
            break
        paths[name] = write(name, fmt, say)
    if not M.build_ready(deadline):
        say("build failed or late")
        return
    say("build ready")
    for name, fmt, kvs in JOBS:
        if name not in paths:  # written now, with the GPU idle; a 33B takes ~80 s to write, ~80 s to time
            if time.time() > deadline - 60 - 2.5 * gib(name, fmt) - 20 * len(kvs):
                say(f"skip {name}: out of time")
                continue
            if not M.wait_for(lambda: M.free_gb() > gib(name, fmt) + 6, deadline - 90):
                say(f"skip {name}: no disk")
                continue
            paths[name] = write(name, fmt, say)
        path = paths.get(name)
        if path is None:
            continue
        try:
            row = bench(name, fmt, kvs, path, smi, deadline, log, say)
            res.write(json.dumps(row) + "\n")
            res.flush()
        except Exception as e:  # record and go on
            say(f"{name}: bench failed: {e!r}")
        path.unlink(missing_ok=True)
    say("done")


if __name__ == "__main__":
    main()
