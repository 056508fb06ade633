"""Fit IQ4_XS's matrix-vector unpack rate on run 12's fit row only, and report the GGUF formats run 12 added.

    python benchmarks/fit_llamacpp_gguf.py           # the constant, then the IQ4_XS rows' errors, fit / held out
    python benchmarks/fit_llamacpp_gguf.py --before  # the same table with the catalog's constants as they are

Run 12 (benchmarks/data/llamacpp-h200/README.md; its split written before any row was measured) timed
R1-Distill-Llama-8B IQ4_XS (fit) on the H200; run 1's R1-Distill-Qwen-7B IQ4_XS row is held out. Only
``dequant_weights_per_s[iq4_xs]`` is searched (least squares over the log error of tg128 from an empty cache and
after 8,192 tokens, fit_llamacpp.search): IQ4_XS's vector dot product takes 4 32-bit words of quants a thread and
step (VDR_IQ4_XS_Q8_1_MMVQ 4 in ggml-cuda/vecdotq.cuh, against Q4_K's 2), and the Q4_K class default (3.4e12)
leaves the fit row's decode 22 % slow. Its prompts and batched steps take Q4_K's MMQ and column constants
(within issue 12's 25 % on the fit row, so none is fitted: one model could not tell a format's rate from noise).
"""

from __future__ import annotations

import sys
from dataclasses import replace

from dsadvisor.catalog.store import load_catalog

from fit_llamacpp import ROWS_ALL, is_, search
from fit_llamacpp_formats import row_lines, table

IQ4 = [r for r in ROWS_ALL if r["quant"] == "iq4_xs"]  # run 12 (fit) and run 1 (held out by run 12's split)


def fit(catalog):
    s = catalog.engines["llama.cpp"].speed
    s = replace(s, dequant_weights_per_s={k: v for k, v in s.dequant_weights_per_s.items() if k != "iq4_xs"})
    s, value = search(catalog, s, "dequant_weights_per_s", is_("decode", quants={"iq4_xs"}), 5e11, 1e14,
                      key="iq4_xs", rows=IQ4)
    return s, {"dequant_weights_per_s[iq4_xs]": value}


def main() -> None:
    catalog = load_catalog()
    speed = catalog.engines["llama.cpp"].speed
    if "--before" not in sys.argv:
        speed, out = fit(catalog)
        for k, v in out.items():
            print(f"{k:56} {v:.4g}")
    for part in ("fit", "held out"):
        print(f"-- IQ4_XS {part}")
        print("\n".join(table(catalog, speed, IQ4, part)))
    print("\n".join(row_lines(catalog, speed, IQ4)))


if __name__ == "__main__":
    main()
