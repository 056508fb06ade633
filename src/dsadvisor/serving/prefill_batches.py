"""A prefill server's batches: a disaggregated prefill instance runs no decode, so each forward takes every
prompt that waits (up to its token budget) and a new prompt waits for the forward in progress, then runs with
the others that arrived meanwhile.

TensorRT-LLM's context server schedules every waiting context request that fits ``max_num_tokens`` and
``max_batch_size`` into its next forward (``tensorrt_llm/_torch/pyexecutor/py_executor.py`` ``_executor_loop``,
``_schedule``; InferenceX's recipes run it with ``disable_overlap_scheduler: true``); SGLang's prefill server
moves the bootstrapped requests to its waiting queue and builds each batch from it up to
``chunked_prefill_size`` (``python/sglang/srt/disaggregation/prefill.py`` ``event_loop_normal_disagg_prefill``,
``get_new_batch_prefill``). No constant of its own: the forward's times are :func:`dsadvisor.physics.estimate`'s.
"""

from __future__ import annotations

from dsadvisor.records import record

ROUNDS = 60  # fixed-point rounds for the batch a prompt joins; it settles to 1e-6 of a prompt in under 30


@record(frozen=True)
class PrefillBatches:
    """A forward of ``n`` prompts takes ``fixed + marginal * n`` seconds (the estimate's prefill of one prompt
    and of ``most``, the most one forward takes)."""

    fixed: float
    marginal: float
    most: int

    @classmethod
    def between(cls, one_s: float, most_s: float, most: int) -> "PrefillBatches":
        marginal = max(0.0, (most_s - one_s) / (most - 1)) if most > 1 else 0.0
        return cls(one_s - marginal, marginal, most)

    def wait_s(self, others_per_s: float) -> float:
        """A prompt's wait beyond its own prefill alone when the other users' prompts reach its server at
        ``others_per_s``: half the forward in progress, if one is (the share of time the server is busy), and
        the others' prompts in its own forward, those that arrived during the one before (at most ``most - 1``).
        A server whose forwards cannot take all that arrives is saturated: the queue of whole forwards beyond
        that is not modelled here (the caller's utilization says so)."""
        n = 1.0
        for _ in range(ROUNDS):
            new = min(float(self.most), 1.0 + others_per_s * (self.fixed + self.marginal * n))
            if abs(new - n) < 1e-6:
                break
            n = 0.5 * (n + new)
        forward = self.fixed + self.marginal * n
        busy = min(1.0, others_per_s * forward)
        return busy * forward / 2 + self.marginal * (n - 1)
