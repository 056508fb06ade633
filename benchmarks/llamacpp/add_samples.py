"""Copy llama-bench's per-repetition samples (``samples_ts``) from the run logs into h200-lcpp.jsonl.

    python benchmarks/llamacpp/add_samples.py

Runs 1-5's rows kept llama-bench's mean and spread only; its JSON lines in ``lcpp-log-run*.txt`` also give each
repetition's tokens/s, in the order run. The calibration needs the order: the repetition in which ggml-cuda
captured its CUDA graph is not a prompt's steady cost (docs/method.md, "llama-bench's CUDA-graph repetition").
A log line is matched to a row's bench entry by its mean (``avg_ts``, six decimals: unique across the logs) and
checked against the row's model and format in the GGUF's file name. Rows that already have samples are kept.
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "llamacpp-h200"


def logged_samples() -> dict[float, dict]:
    """Every llama-bench JSON line of the run logs, by its mean tokens/s."""
    out: dict[float, dict] = {}
    for log in sorted(DATA.glob("lcpp-log-run*.txt")):
        for line in log.read_text().splitlines():
            if not line.startswith("{") or "samples_ts" not in line:
                continue
            try:
                b = json.loads(line)
            except json.JSONDecodeError:
                continue
            out[round(b["avg_ts"], 6)] = b
    return out


def with_samples(row: dict, logged: dict[float, dict]) -> dict:
    bench = []
    for b in row.get("bench", []):
        got = logged.get(round(b["avg_ts"], 6))
        if "samples_ts" not in b and got is not None:
            name = got["model_filename"].rsplit("/", 1)[-1]
            if row["model"] not in name or row["quant"] not in name:
                raise SystemExit(f"log line for {row['model']} {row['quant']} names {name}")
            b = {**b, "samples_ts": got["samples_ts"]}
        bench.append(b)
    return {**row, "bench": bench}


def main() -> None:
    path = DATA / "h200-lcpp.jsonl"
    logged = logged_samples()
    rows = [with_samples(json.loads(line), logged) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    main()
