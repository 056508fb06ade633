"""Estimates beside measurements: the rows of a calibration JSONL, each with the estimator's figure.

Used by tests/test_calibration.py (which holds the targets) and by
benchmarks/calibration.py (which prints the error table). The measurement files
are described in benchmarks/data/README.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dsadvisor.catalog.store import Catalog
from dsadvisor.physics.estimate import Deployment, estimate
from dsadvisor.catalog.schema import Gpu

# calibration model name -> catalog id (the calibration builds each from its released config)
MODEL_IDS = {
    "deepseek-coder-1.3b": "deepseek-coder-1.3b-base",
    "deepseek-coder-6.7b": "deepseek-coder-6.7b-base",
    "deepseek-llm-7b": "deepseek-llm-7b-base",
    "r1-distill-qwen-1.5b": "deepseek-r1-distill-qwen-1.5b",
    "r1-distill-qwen-7b": "deepseek-r1-distill-qwen-7b",
    "r1-distill-qwen-14b": "deepseek-r1-distill-qwen-14b",
    "r1-distill-qwen-32b": "deepseek-r1-distill-qwen-32b",
    "r1-distill-llama-8b": "deepseek-r1-distill-llama-8b",
    "deepseek-v2-lite": "deepseek-v2-lite",
}


@dataclass(frozen=True)
class Comparison:
    quantity: str  # "memory", "decode_step", "prefill"
    model: str
    batch: int
    tokens: int  # prompt (memory, prefill) or context (decode)
    measured: float
    estimated: float

    @property
    def error(self) -> float:
        return self.estimated / self.measured - 1


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def measured_gpu(catalog: Catalog, rows: list[dict]) -> Gpu:
    """The catalog's entry for the GPU a file was measured on (its ``kind: device`` row, as nvidia-smi
    names it); files without a device row are the H100 calibration set."""
    from dsadvisor.catalog.hardware import resolve_gpu

    name = next((r["gpu"] for r in rows if r.get("kind") == "device" and r.get("gpu")), "NVIDIA H100 80GB HBM3")
    return resolve_gpu(catalog.gpus, name)


def _deployment(catalog: Catalog, gpu: Gpu, model: str, engine: str, **kw) -> Deployment:
    entry = catalog.models[MODEL_IDS[model]]
    return Deployment.of(catalog, model=entry, gpu=gpu, quant=catalog.quantizations["bf16"],
                      engine=catalog.engines[engine], **kw)


def compare_transformers(catalog: Catalog, rows: list[dict]) -> list[Comparison]:
    """Serving with transformers: device memory at the end, and the prefill's wall time."""
    gpu = measured_gpu(catalog, rows)
    out = []
    first = True  # the file's first case includes warm-up in its prefill time
    for r in rows:
        if r.get("kind") != "case" or not r.get("ok", True):
            continue
        warm_up, first = first, False
        context = r["prompt"] + r["decode"]
        est = estimate(_deployment(catalog, gpu, r["model"], "transformers", context=context,
                                            prompt_tokens=r["prompt"], batch=r["batch"]))
        out.append(Comparison("memory", r["model"], r["batch"], r["prompt"], r["device_used_end"],
                              est.memory.per_gpu))
        if r.get("prefill_s") and est.ttft_s and not warm_up:
            out.append(Comparison("prefill", r["model"], r["batch"], r["prompt"], r["prefill_s"], est.ttft_s))
    return out


def compare_decode(catalog: Catalog, rows: list[dict]) -> list[Comparison]:
    """One CUDA-graph decode step, as an optimised engine (vLLM) runs it."""
    gpu = measured_gpu(catalog, rows)
    out = []
    for r in rows:
        if r.get("kind") != "decode" or not r.get("ok", True):
            continue
        est = estimate(_deployment(catalog, gpu, r["model"], "vllm", context=r["context"],
                                            prompt_tokens=min(r["context"], 2048), batch=r["batch"],
                                            gpus=r.get("tp", 1)))  # tensor parallel rows: measure_tp.py
        out.append(Comparison("decode_step", r["model"], r["batch"], r["context"], r["step_s"], est.decode_step_s))
    return out
