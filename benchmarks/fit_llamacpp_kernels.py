"""llama.cpp's matmul constants read off its own kernels timed alone on the H200 (run 5,
benchmarks/data/llamacpp-h200/h200-kernels.jsonl, and run 6, h200-kernels-run6.jsonl, made by
benchmarks/llamacpp/mmbench.cpp). No row of the error table enters: these are measurements of the physics the
estimator models.

    python benchmarks/fit_llamacpp_kernels.py          # run 5's figures, then run 6's (floor_report)

Prints, per format, what the batched quantized matmul (MMQ, N > 8 token columns) costs, as
``t = t0 + W / u + W x J / c`` for a W-weight matmul whose output tile multiplies J columns (physics.tiles):
the fixed cost per matmul and tile t0 (from the Q8_0 / Q6_K weights of two sizes: R1-Distill-Qwen-7B's MLP and
its 152K output head), the pass unpacking the weights into the tile u (weights/s, HBM read included; the estimator
charges the read at the bandwidth and the rest as ``batched_weights_per_s_by_format``), and the column rate c as a
share of the H200's dense int8 rate (``quantized_linear_efficiency_by_format``); then the routed experts'
MUL_MAT_ID (DeepSeek-MoE-16B / V2-Lite shapes) as a share of the dense column rate
(``moe_expert_decode_efficiency``), 16-bit weights' batched GEMM against one column, and the logits copy.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from dsadvisor.physics.tiles import dense_tiles, expert_tiles

KERNELS = Path(__file__).resolve().parent / "data" / "llamacpp-h200" / "h200-kernels.jsonl"
KERNELS_RUN6 = KERNELS.with_name("h200-kernels-run6.jsonl")
H200_INT8_DENSE = 1979e12  # catalog/gpus: H200 int8 dense TOPS
H200_READ = 0.90 * 4.8e12  # the decode bandwidth the estimator charges (0.90 of the datasheet)
BYTES_PER_WEIGHT = {"q8_0": 34 / 32, "q4_K": 144 / 256, "q5_K": 176 / 256, "q6_K": 210 / 256, "q3_K": 110 / 256,
                    "q5_0": 22 / 32, "q4_0": 18 / 32}
FILE_FORMAT = {"q8_0": "q8_0", "q4_K": "q4_k_m", "q5_K": "q5_k_m", "q6_K": "q6_k", "q3_K": "q3_k_m"}


def rows(path: Path = KERNELS) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def lstsq(xs: list[list[float]], ys: list[float]) -> list[float]:
    """Least squares on the relative error (each row weighted by 1 / y^2), by the normal equations."""
    n = len(xs[0])
    a = [[sum(x[i] * x[j] / y / y for x, y in zip(xs, ys)) for j in range(n)] + [sum(x[i] / y for x, y in zip(xs, ys))]
         for i in range(n)]
    for i in range(n):
        p = max(range(i, n), key=lambda r: abs(a[r][i]))
        a[i], a[p] = a[p], a[i]
        for r in range(n):
            if r != i:
                f = a[r][i] / a[i][i]
                a[r] = [v - f * w for v, w in zip(a[r], a[i])]
    return [a[i][n] / a[i][i] for i in range(n)]


def line(pts: list[dict]) -> tuple[float, float]:
    """(seconds at J = 0, seconds per padded column) of one matmul shape above 8 columns."""
    a, b = lstsq([[1.0, float(dense_tiles(r["n"], 8, 128)[1])] for r in pts], [r["us"] * 1e-6 for r in pts])
    return a, b


def dense_mmq(data: list[dict]) -> tuple[float, dict[str, tuple[float, float]]]:
    """t0 and, per GGML type, (u, c) from R1-Distill-Qwen-7B's MLP matmuls (gate: 18944 x 3584, down: 3584 x 18944)."""
    t0s = []
    for t in ("q8_0", "q6_K"):  # two weight sizes: the MLP matrix and the output head
        small = line([r for r in data if r["label"] == "q7-gate" and r["type"] == t and r["n"] > 8])
        big = line([r for r in data if r["label"] == "q7-head" and r["type"] == t and r["n"] > 8])
        w_small, w_big = 18944 * 3584, 152064 * 3584
        per_w = (big[0] - small[0]) / (w_big - w_small)
        t0s.append(small[0] - w_small * per_w)
    t0 = statistics.mean(t0s)
    out = {}
    for t in FILE_FORMAT:
        us, cs = [], []
        for label in ("q7-gate", "q7-down"):
            pts = [r for r in data if r["label"] == label and r["type"] == t and r["n"] > 8]
            w = pts[0]["m"] * pts[0]["k"]
            a, b = line(pts)
            us.append(w / (a - t0))
            cs.append(w / b)
        out[t] = (statistics.mean(us), statistics.mean(cs))
    return t0, out


def expert_share(data: list[dict], label: str, t: str, t0: float, u: float, c: float) -> float:
    """The share e of the dense column rate c that MUL_MAT_ID's expert tiles reach, with the dense pass u and t0:
    t = t0 + passes x We / u + columns x We / (c x e), on the binomial tiles of uniform routing."""
    pts = [r for r in data if r["label"] == label and r["type"] == t and r["n"] > 8]
    num = den = 0.0
    for r in pts:
        passes, cols = expert_tiles(r["n"], r["experts"], r["used"], 8, 128)
        we = r["m"] * r["k"] * r["experts"]
        rest = r["us"] * 1e-6 - t0 - passes * we / u  # what the columns take
        x = cols * we / c
        num, den = num + x * x / rest / rest, den + x / rest  # 1/e = den / num: least squares of the relative error
    return num / den


def main() -> None:
    data = rows()
    t0, mmq = dense_mmq(data)
    print(f"MMQ fixed cost per matmul and tile t0 = {t0 * 1e6:.1f} us")
    print("type  file     u (w/s, read incl.)  unpack beyond the read  c (weight-columns/s)  share of int8 dense")
    for t, (u, c) in mmq.items():
        beyond = 1 / (1 / u - BYTES_PER_WEIGHT[t] / H200_READ)
        print(f"{t:5} {FILE_FORMAT[t]:8} {u:.3g}              {beyond:.3g}                 {c:.3g}"
              f"              {2 * c / H200_INT8_DENSE:.3f}")
    shares = []
    for label, types in (("moe-up", ("q8_0", "q4_K", "q5_K", "q6_K", "q3_K")), ("moe-down", ("q8_0",))):
        for t in types:
            u, c = mmq[t]
            e = expert_share(data, label, t, t0, u, c)
            shares.append(e)
            print(f"{label} {t}: expert tiles at {e:.3f} of the dense column rate")
    print(f"routed experts in batched decode (median): {statistics.median(shares):.3f}")
    for label in ("q7-gate", "q7-down", "q7-head"):
        one = next(r["us"] for r in data if r["label"] == label and r["type"] == "f16" and r["n"] == 1)
        many = [r["us"] for r in data if r["label"] == label and r["type"] == "f16" and r["n"] >= 24]
        print(f"F16 {label}: {one:.1f} us at 1 column, {min(many):.1f}-{max(many):.1f} us at 24-128 (cuBLAS)")
    for label in ("q7-o", "q7-kv", "moe-shared"):  # smaller matrices: fewer row tiles than the GPU has SMs
        for t in ("q8_0", "q4_K"):
            pts = [r for r in data if r["label"] == label and r["type"] == t and r["n"] > 8]
            if pts:
                a, b = line(pts)
                w = pts[0]["m"] * pts[0]["k"]
                model = t0 + w / mmq[t][0] + 16 * w / mmq[t][1]
                print(f"{label} {t} ({w / 1e6:.1f}M weights): {a * 1e6 + 16 * b * 1e6:.1f} us at 16 columns "
                      f"(model {model * 1e6:.1f}), {b * 1e6:.3f} us a column (model {w / mmq[t][1] * 1e6:.3f})")
    for vocab in (152064, 102400):
        pin = [r for r in data if r["type"] == "copy" and r["vocab"] == vocab and r["pinned"] and r["n"] >= 16]
        page = [r for r in data if r["type"] == "copy" and r["vocab"] == vocab and not r["pinned"] and r["n"] >= 16]
        print(f"logits {vocab}: pinned {statistics.median(r['bytes'] / r['us'] * 1e6 for r in pin):.3g} B/s, "
              f"pageable {statistics.median(r['bytes'] / r['us'] * 1e6 for r in page):.3g} B/s")


def fit_line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(a, b) of y = a + b x, least squares on the relative error."""
    return tuple(lstsq([[1.0, x] for x, _ in points], [y for _, y in points]))


def slopes(data: list[dict], t: str) -> list[tuple[str, float, float, float, float]]:
    """Per dense shape of GGML type ``t``: (label, weights, the vector kernel's time per further column at 2-8
    columns, MMQ's time per tile column above 8, MMQ at J = 0 less the one-column kernel)."""
    out = []
    for label in sorted({r["label"] for r in data if r["type"] == t and not r.get("experts")}):
        pts = [r for r in data if r["label"] == label and r["type"] == t]
        vec = [r for r in pts if 2 <= r["n"] <= 8]
        mmq = [r for r in pts if r["n"] > 8]
        if len(vec) < 3 or len(mmq) < 3:
            continue
        av, bv = lstsq([[1.0, r["n"]] for r in vec], [r["us"] for r in vec])
        aq, bq = lstsq([[1.0, dense_tiles(r["n"], 8, 128)[1]] for r in mmq], [r["us"] for r in mmq])
        out.append((label, pts[0]["m"] * pts[0]["k"], bv, bq, aq - (av + bv)))
    return out


GRAPH_S = 6.6  # us: a graph run's launch and synchronize (run 6), spread over a graph's weight copies
TILE_OVER_VECTOR_S = 4.5  # us: MMQ's first tile over the one-column kernel at W -> 0 (intercepts 3.3-5.4 by format)


def floor_report(data: list[dict], held: list[dict]) -> None:
    """Run 6: the floor every matmul pays per column whatever its size (vector kernel and MMQ), MMQ's first tile
    over the one-column kernel, the 16-bit small-batch kernel (mmf) and the graph's own cost; then run 6's
    shapes (not in run 5) against what run 5's figures predict."""
    probe = {"q7-kv": "q8_0", "moe-up": "q4_K"}  # the matmuls timed at exactly 1 and at 64 / 8 copies
    pairs = {(r["label"], r["reps"]): {x["n"]: x["us"] for x in held if x["label"] == r["label"]
                                       and x["reps"] == r["reps"] and x["type"] == r["type"]}
             for r in held if probe.get(r["label"]) == r["type"] and r["reps"] in (1, 8, 64)}
    for label, many in (("q7-kv", 64), ("moe-up", 8)):
        one, lots = pairs[(label, 1)], pairs[(label, many)]
        g = statistics.median((one[n] - lots[n]) / (1 - 1 / many) for n in one if n in lots)
        print(f"graph launch and synchronize ({label}, 1 vs {many} copies): {g:.1f} us a graph run")
    fitted = {}
    for t in FILE_FORMAT:
        sl = slopes(data, t)
        av, bv = fit_line([(w, v) for _, w, v, _, _ in sl])
        aq, bq = fit_line([(w, q) for _, w, _, q, _ in sl])
        num = sum(w * (d - TILE_OVER_VECTOR_S) / d / d for _, w, _, _, d in sl)
        den = sum(w * w / d / d for _, w, _, _, d in sl)
        fitted[t] = (av, bv, aq, bq)
        print(f"{t:5} vector: {av:.2f} us + W / {1e-6 / bv:.3g} a further column; MMQ: {aq:.3f} us + W / "
              f"{1e-6 / bq:.3g} a tile column; first tile over one column: {TILE_OVER_VECTOR_S} us + W / "
              + (f"{1e-6 * den / num:.3g}" if num > 0 else "(no pass)"))
    small = [(r["k"], r["us"]) for r in data if r["type"] == "f16" and r["label"] in ("q7-kv", "q7-o", "q7-down",
                                                                                       "moe-shared") and 2 <= r["n"] <= 16]
    c, per_k = fit_line(small)
    print(f"F16 mmf (2-16 columns), one 32-row block along K: {c:.2f} us + K x {per_k * 1e3:.2f} ns")
    big = [r["m"] * r["k"] / (r["us"] - GRAPH_S / r["reps"]) * 1e6 for r in data
           if r["type"] == "f16" and r["label"] in ("q7-gate", "q32-gate", "q7-head") and 2 <= r["n"] <= 16]
    print(f"F16 mmf, matrices of many blocks: {statistics.median(big):.3g} weights/s (every SM busy)")
    for label, m, k, t in (("l7-qkvo", 4096, 4096, "q8_0"), ("l7-down", 4096, 11008, "q4_K"), ("l8-kv", 1024, 4096,
                                                                                                 "q8_0"),
                           ("c1-qkvo", 2048, 2048, "q4_K"), ("c1-up", 5504, 2048, "q8_0"), ("l8-up", 14336, 4096,
                                                                                           "q4_K")):
        av, bv, aq, bq = fitted[t]
        pts = {r["n"]: r["us"] for r in held if r["label"] == label and r["type"] == t}
        f16 = {r["n"]: r["us"] for r in held if r["label"] == label and r["type"] == "f16"}
        vec = (pts[8] - pts[2]) / 6
        mmq = (pts[32] - pts[16]) / 16
        block = c + k * per_k
        print(f"held out {label} {t}: vector {vec:.2f} (run 5 predicts {av + bv * m * k:.2f}) us a column, MMQ "
              f"{mmq:.3f} ({aq + bq * m * k:.3f}); F16 at 2 columns {f16[2]:.1f} us (block {block:.1f}, "
              f"bytes {m * k * 2 / H200_READ * 1e6:.1f})")
    moe = [r for r in held if r["label"] in ("moe-up", "moe-down") and r["reps"] == 8 and r["type"] != "f16"]
    for t in sorted({r["type"] for r in moe}):
        pts = {(r["label"], r["n"]): r["us"] for r in moe if r["type"] == t}
        for label in ("moe-up", "moe-down"):
            if (label, 2) in pts and (label, 8) in pts:
                per = (pts[(label, 8)] - pts[(label, 2)]) / 6
                w = 6 * 1408 * 2048
                print(f"{label} {t}: {per:.2f} us a further token at 2-8: its 6 experts at {w / per * 1e6:.3g} "
                      "weights/s")


if __name__ == "__main__":
    main()
    floor_report(rows(), rows(KERNELS_RUN6))
