"""MTP speculative decoding: the model's own multi-token-prediction layer drafts ``k`` tokens a step
and the main model verifies them in one pass (estimate/plan ``--mtp k``).

A step of ``B`` running sequences then costs:

- the verification pass: the main model over ``B (k + 1)`` tokens. The weights are read once, as in a
  plain step, but the routed experts the extra tokens pick are read too, every token's matmuls and
  attention are computed, and the all-reduce carries ``k + 1`` tokens a sequence; the KV cache is read
  once per sequence (the ``k + 1`` queries share it). That is :func:`estimate` at batch ``B (k + 1)``
  less the ``B k`` extra KV reads;
- ``k`` draft passes of the MTP layer over ``B`` tokens (vLLM and TensorRT-LLM run one per draft token,
  the first over the tokens just accepted): one decoder layer and the shared output head, timed as the
  main step's average layer plus reading the head.

and yields ``1 + a1 + a1 a2 + ...`` tokens a sequence on average, ``a_i`` being the chance the
``i``-th draft is accepted once the ones before it were. Per output token a sequence waits
``(verify + drafts) / tokens``. At small batches the verification costs about a plain step (reading
the weights dominates) and the speed-up approaches the tokens per step; as the batch grows the step
becomes compute-bound, the verification costs ``k + 1`` steps' FLOPs, and the benefit shrinks and
then reverses. Nothing here is a rule about batch size: it falls out of the step's physics.

Acceptance rates are published measurements, never fitted here (:data:`ACCEPTANCE`).
"""

from __future__ import annotations


from dsadvisor.catalog.schema import Architecture
from dsadvisor.physics.estimate import Deployment, decode_step, kv_bytes_per_element, rates_for
from dsadvisor.physics.memory import head_bits, kv_read_bytes
from dsadvisor.physics.params import count_params
from dsadvisor.records import record, replace


@record(frozen=True)
class Acceptance:
    first: float  # chance the first draft token is accepted
    later: float  # chance each further draft is accepted once the ones before it were
    source: str


# Published acceptance of DeepSeek's own MTP layer used as the draft (greedy or near-greedy chat
# and code benchmarks). Sources that disagree are kept beside the figure used.
ACCEPTANCE = {
    "v3": Acceptance(
        first=0.882,
        later=0.61,
        source=(
            "first draft: vLLM's regression baseline for DeepSeek-V3 MTP, acceptance length 1.882 on "
            "MT-Bench, greedy, TP 8 (tests/v1/spec_decode/test_acceptance_length.py, "
            "https://github.com/vllm-project/vllm); the DeepSeek-V3 Technical Report (arXiv:2412.19437, "
            "section 5.4.3) gives 85-90% for the second token. Later drafts (the one MTP layer reused): "
            "0.61, which with 0.882 first gives the acceptance length 3.20 that Nebius measured for the "
            "original V3-0324 MTP layer at 7 draft tokens on MT-Bench, HumanEval and GSM8K, temperature 0 "
            "(https://huggingface.co/nebius/MTP-DeepSeek-V3-0324). Beside it: TensorRT-LLM measured R1's "
            "acceptance length 1.92 / 2.58 / 2.82 at 1 / 2 / 3 drafts on a 1K / 2K real dataset (B200 "
            "min-latency tech blog 1, 'Pushing Latency Boundaries: Optimizing DeepSeek-R1 Performance on NVIDIA "
            "B200 GPUs', in the TensorRT-LLM repository; these rates give 1.88 / 2.42 / 2.75)"),
    ),
    "v4": Acceptance(
        first=0.70,
        later=0.61,
        source=(
            "first draft: vLLM's regression baseline for DeepSeek-V4-Flash NVFP4 MTP, acceptance length "
            "1.70 on MT-Bench, greedy, TP 4 (tests/v1/spec_decode/test_acceptance_length.py); later "
            "drafts: V3's 0.61 (no V4 figure published; assumed)"),
    ),
}


def acceptance_for(arch: Architecture) -> Acceptance:
    """V4 (compressed sparse attention) has its own measurement; V3, R1, V3.1 and V3.2 share V3's layer design."""
    return ACCEPTANCE["v4" if arch.attention == "csa-hca" else "v3"]


def tokens_per_step(acc: Acceptance, draft_tokens: int) -> float:
    """Expected tokens a sequence gains per verification step: the one the main model always yields plus
    each draft accepted along with every draft before it."""
    total, chain = 1.0, 1.0
    for i in range(draft_tokens):
        chain *= acc.first if i == 0 else acc.later
        total += chain
    return total


@record(frozen=True)
class SpeculativeStep:
    draft_tokens: int
    tokens_per_step: float
    verify_s: float  # the main model over every sequence's k + 1 tokens
    draft_s: float  # the k MTP layer passes
    plain_step_s: float  # the same batch without MTP, for comparison

    @property
    def per_token_s(self) -> float:
        """Seconds a sequence waits per output token (its TPOT before prompts interfere)."""
        return (self.verify_s + self.draft_s) / self.tokens_per_step

    @property
    def speedup(self) -> float:
        return self.plain_step_s / self.per_token_s


def speculative_step(d: Deployment, batch: int, context: int, prompt_tokens: int,
                     plain_step_s: float | None = None) -> SpeculativeStep:
    """One MTP decode step of ``batch`` sequences at ``context`` tokens, from the layout's draft count
    (``d.layout.mtp``). ``plain_step_s``: the plain decode step of ``d`` at this batch and context, if known."""
    assert d.layout is not None and d.layout.mtp > 0
    k, arch = d.layout.mtp, d.architecture
    assert arch is not None
    plain = plain_step_s or decode_step(replace(d, batch=batch, context=context, prompt_tokens=prompt_tokens))
    wide = decode_step(replace(d, batch=batch * (k + 1), context=context, prompt_tokens=prompt_tokens))
    verify = wide - _extra_kv_read_s(d, arch, context, batch * k)
    p = count_params(arch)
    rates = rates_for(d.gpu, d.engine, d.quant)
    head_bytes = p.lm_head * head_bits(d.quant) / 8
    # one MTP pass: an average decoder layer of this batch's step, then the shared output head
    one_pass = plain / arch.num_hidden_layers + head_bytes / d.layout.tp / rates.bandwidth
    return SpeculativeStep(k, tokens_per_step(acceptance_for(arch), k), verify, k * one_pass, plain)


def _extra_kv_read_s(d: Deployment, arch: Architecture, context: int, extra_sequences: int) -> float:
    """What reading ``extra_sequences`` sequences' KV cache costs: the verification pass's queries share
    their sequence's cache, which :func:`estimate` at the widened batch counted once per query."""
    assert d.layout is not None
    _, elem = kv_bytes_per_element(d)
    lay = d.layout
    per_gpu = kv_read_bytes(arch, context, elem, lay.attention_tp, d.engine.memory.decompressed_mla_cache) \
        / (lay.pp * lay.dp_attention) * extra_sequences
    # a token crosses the pipeline stages one after another: every stage's read is on its path
    return lay.pp * per_gpu / rates_for(d.gpu, d.engine, d.quant).bandwidth


def prefill_factor(arch: Architecture) -> float:
    """The MTP layer also runs over every prompt (to draft from its last token): one more layer."""
    return (arch.num_hidden_layers + arch.num_nextn_predict_layers) / arch.num_hidden_layers
