"""Engine releases: the speed figures of the release a deployment names, where a behaviour changed since.

An engine's ``speed.versions`` (catalog/engines/engines.yaml) says which releases its figures were fitted on and
lists the behaviours that changed at a release (``SpeedChange.since``). A deployment that names an older release
(``Deployment.engine_version``: the published rows' ``engine_version``) is estimated with the figures of before
each such change; one that names none, or a newer one, with the engine as it is.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dsadvisor.catalog.schema import Engine, Gpu, SpeedChange

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _release_key(version: str) -> tuple[int, ...] | None:
    """0.4.1.post2 -> (0, 4, 1, 2); None where the version holds no number ("not stated")."""
    numbers = re.findall(r"\d+", version)
    return tuple(int(n) for n in numbers) if numbers else None


def older(version: str, since: str, scheme: str) -> bool:
    """Whether ``version`` predates ``since``: build dates compare as dates (a version that is no date is not
    older), release numbers number by number."""
    if scheme == "date":
        return bool(_DATE.match(version)) and version < since
    a, b = _release_key(version), _release_key(since)
    return a is not None and b is not None and a < b


def _applies(change: SpeedChange, gpu: Gpu) -> bool:
    if change.vendors and gpu.vendor not in change.vendors:
        return False
    if change.min_compute_capability:
        have = _release_key(gpu.compute_capability or "")
        need = _release_key(change.min_compute_capability)
        return have is not None and need is not None and have >= need
    return True


def changes_after(engine: Engine, gpu: Gpu, version: str | None) -> list[SpeedChange]:
    """The behaviours the engine gained after ``version`` that apply on this GPU (none: version not given)."""
    versions = engine.speed.versions
    if not version or versions is None:
        return []
    return [c for c in versions.changes if older(version, c.since, versions.scheme) and _applies(c, gpu)]


def at_version(engine: Engine, gpu: Gpu, version: str | None) -> Engine:
    """The engine as the release ``version`` ran on this GPU."""
    changes = changes_after(engine, gpu, version)
    if not changes:
        return engine
    s = engine.speed
    speed = replace(s, per_layer_decode_s=s.per_layer_decode_s + sum(c.per_layer_decode_s_before for c in changes),
                    per_layer_decode_s_by_vendor={
                        v: x + sum(c.per_layer_decode_s_before for c in changes)
                        for v, x in s.per_layer_decode_s_by_vendor.items()},
                    quantized_prefill_dequantized=s.quantized_prefill_dequantized
                    or any(c.quantized_prefill_dequantized_before for c in changes),
                    prefill_kq_materialized=s.prefill_kq_materialized
                    or any(c.prefill_kq_materialized_before for c in changes),
                    vector_bytes_per_sm_s=min([c.vector_bytes_per_sm_s_before for c in changes
                                               if c.vector_bytes_per_sm_s_before], default=s.vector_bytes_per_sm_s),
                    prefill_rate_share=min([c.prefill_rate_share_before for c in changes
                                            if c.prefill_rate_share_before], default=s.prefill_rate_share),
                    dequant_fp16_weights_per_sm_s={**s.dequant_fp16_weights_per_sm_s,
                                                   **{k: v for c in changes
                                                      for k, v in c.dequant_fp16_weights_per_sm_s_before.items()}})
    return replace(engine, speed=speed)


def version_notes(engine: Engine, gpu: Gpu, version: str | None) -> list[str]:
    """What the estimate's basis says of the release it models."""
    versions = engine.speed.versions
    if versions is None:
        return []
    notes = [f"engine {engine.id} speed modelled for {versions.modelled}"]
    for c in changes_after(engine, gpu, version):
        notes.append(f"engine {engine.id} {version}: before {c.what} (from {c.since}; {c.source})")
    return notes


def dequantize_pass_s(bits_per_weight: float, weights: float, tokens: int, ubatch: int, bandwidth: float,
                      weights_per_s: float | None = None) -> float:
    """Dequantizing the weights to fp16 before each micro-batch's GEMM (llama.cpp's cuBLAS path,
    ggml_cuda_op_mul_mat_cublas): every micro-batch reads each weight in its format and writes it as 2 bytes, or,
    where the format's dequantize kernel is slower than that (``weights_per_s``: sm_count x its per-SM rate), at
    the kernel's rate."""
    batches = -(-tokens // ubatch) if ubatch else 1
    per_weight = (bits_per_weight / 8 + 2) / bandwidth
    return batches * weights * max(per_weight, 1 / weights_per_s if weights_per_s else 0.0)


# bytes of memory traffic per KQ element without flash attention: the first GEMM writes it in F32 (4), the soft-max
# reads and writes it (8), the second GEMM reads it (4); conversions between them are not counted (a lower bound)
KQ_BYTES_PER_ELEMENT = 16


def kq_elements(tokens: int, ubatch: int) -> float:
    """Elements of one head's KQ matrices over a prompt without flash attention: every micro-batch of ``ubatch``
    tokens multiplies its queries by the keys of the whole context so far (the mask zeroes the future keys after
    the product, so nothing is skipped: the whole rectangle, not the causal half)."""
    step = ubatch or tokens
    elements, done = 0.0, 0
    while done < tokens:
        n = min(step, tokens - done)
        done += n
        elements += n * done
    return elements


def kq_materialized_s(heads: int, layers: int, tokens: int, ubatch: int, bandwidth: float) -> float:
    """Prompt attention without flash attention: the KQ matrix (queries x keys x heads) of every micro-batch moved
    through memory."""
    return KQ_BYTES_PER_ELEMENT * kq_elements(tokens, ubatch) * heads * layers / bandwidth


def kq_gemm_flops(heads: int, dims: tuple[int, int], layers: int, tokens: int, ubatch: int) -> float:
    """The two batched GEMMs of prompt attention without flash attention (llm_build_kqv: KQ = K x Q, then
    KQV = V x softmax(KQ)), 2 FLOPs a multiply-add over every KQ element: queries x keys so far, per head."""
    dqk, dv = dims
    return 2.0 * kq_elements(tokens, ubatch) * heads * (dqk + dv) * layers
