"""A server under load: per-request time to first token and time per output token at a concurrency.

The engine runs iterations. Each iteration advances every running sequence by one token and
takes in prompt tokens up to the scheduler's budget. Under ``concurrency`` users in a closed loop
(each sends its next request when an answer ends), in steady state:

- requests finish at a rate ``lam = C / (TTFT + (out - 1) * TPOT)``;
- the GPU spends the share ``rho = lam * p`` of its time on prompts, ``p`` being one prompt's
  prefill time when prompts are batched up to the token budget; the other users' share of it,
  ``rho_o = rho * (C - 1) / C``, stretches a sequence's decode steps: ``TPOT = step / (1 - rho_o)``;
- a new request waits for the iteration in progress (half a step), for the batches the engine has
  already scheduled behind it (``Scheduler.scheduled_ahead``: one whole step on vLLM and TensorRT-LLM,
  which schedule a batch while the previous one runs) and for the prompts queued
  ahead of it. Requests that arrive together (``COHORT`` of them: a benchmark's first wave, when
  every client sends at once) wait for half of the others' prompts; the rest arrive at random,
  their clients spread apart by answers of different lengths (an M/D/1 queue:
  ``rho * p / (2 (1 - rho))``); vLLM's prompts also queue for its one tokenizer thread the same way
  (``tokenizer_queue_s``); then the engine's fixed cost per request (HTTP, tokenizing, scheduling,
  streaming the token back; vLLM's tokenizing per prompt token apart, ``Scheduler.request_cost_s``)
  and its own prefill, chunked across
  ``ceil(prompt / budget)`` iterations that each also carry the others' decode.

The three equations share ``rho`` and are solved together by fixed-point iteration. ``step`` and
the prefill times come from :func:`dsadvisor.physics.estimate.estimate`.
"""

from __future__ import annotations

from typing import Any

import math

from dsadvisor.physics.estimate import (Deployment, Estimate, decode_step, estimate, kv_cache_per_gpu,
                                        prefill_time)
from dsadvisor.records import record, replace
from dsadvisor.serving.scheduler import Scheduler, scheduler_for
from dsadvisor.serving.workload import Workload

SATURATED = 0.98  # prompt share of GPU time past which the server cannot keep up (queue grows without end)
# Share of requests whose prompts arrive together with every other user's. A fixed-concurrency
# benchmark starts all its clients at once: that first wave is 1 / (requests per client) of all
# requests. InferenceX (the client of most of NVIDIA's served runs) sends 10 requests per client
# (--num-prompts 10 x concurrency) with lengths drawn from 0.8-1.0 of the nominal ones, so after the
# first wave the clients drift apart and arrive at random. Taken from that documented setup, not
# fitted (it replaced a fitted 0.5, docs/method.md "Serving under load"). A client whose prompts and
# answers all have one length keeps its users in lock step: ``Workload.in_step`` = 1.
COHORT = 0.1


@record(frozen=True)
class Serving:
    """Per-request figures under a workload (means over requests in steady state)."""

    concurrency: int  # requests in flight, as asked
    running: int  # sequences the engine runs at once: the rest wait for a slot (KV cache, scheduler cap)
    prompt_tokens: int
    output_tokens: int
    ttft_s: float | None  # None: the GPU has no FLOP rate in the catalog
    tpot_s: float
    queue_s: float  # of ttft_s: waiting for a slot, for the iteration in progress and for the prompts ahead
    prefill_share: float  # share of GPU time spent on prompts
    saturated: bool  # prompts alone keep the GPU busy: TTFT grows with the queue
    kv_cache_bytes: float  # per GPU, the running sequences at full length
    limited_by: str | None  # "kv-cache" or "scheduler" when running < concurrency
    tokens_per_step: float = 1.0  # output tokens a sequence gains per decode step (> 1 with MTP drafts)

    @property
    def tokens_per_s_per_user(self) -> float:
        return 1.0 / self.tpot_s

    @property
    def tokens_per_s_total(self) -> float:
        """Output tokens per second of the whole deployment (every user's answers)."""
        if self.ttft_s is None:
            return self.running / self.tpot_s
        return self.concurrency * self.output_tokens / (self.ttft_s + (self.output_tokens - 1) * self.tpot_s)

    def shortfall(self) -> str:
        """What the KV cache (or scheduler) holds when it runs fewer than the concurrency asked."""
        tokens = self.prompt_tokens + self.output_tokens
        if self.running == 0:
            return (f"not one request of {tokens:,} tokens fits in the KV cache left; none is served "
                    "(fewer --prompt-tokens/--context, more GPUs, an fp8 KV cache or smaller weights would)")
        holder = "KV cache" if self.limited_by == "kv-cache" else "scheduler"
        return (f"the {holder} holds {self.running:,} of the {self.concurrency:,} requests at once; the rest wait "
                f"for a slot: --concurrency {self.running:,} runs them all")

    def as_dict(self) -> dict:
        return {"concurrency": self.concurrency, "running": self.running, "prompt_tokens": self.prompt_tokens,
                "output_tokens": self.output_tokens, "ttft_s": self.ttft_s, "tpot_s": self.tpot_s,
                "tokens_per_s_per_user": self.tokens_per_s_per_user,
                "tokens_per_s_total": self.tokens_per_s_total, "queue_s": self.queue_s,
                "prefill_share": self.prefill_share, "saturated": self.saturated,
                "kv_cache_bytes": round(self.kv_cache_bytes), "limited_by": self.limited_by,
                "tokens_per_step": self.tokens_per_step}


def running_slots(one: Estimate, workload: Workload, sched: Scheduler) -> tuple[int, str | None]:
    """Sequences the engine can run at once: the scheduler's cap, and what the KV cache left over
    holds at the average length a sequence has over its answer (paged caches hold what is used), or
    at its whole length where the scheduler reserves it up front (``reserves_whole_answer``)."""
    length = workload.context if sched.reserves_whole_answer else workload.mean_context
    by_kv = one.memory.kv_capacity_tokens // length
    running = min(workload.concurrency, sched.max_running, by_kv)
    if running >= workload.concurrency:
        return workload.concurrency, None
    return max(running, 0), "kv-cache" if by_kv < sched.max_running else "scheduler"


def serve(d: Deployment, workload: Workload, scheduler: Scheduler | None = None,
          known: Estimate | None = None) -> tuple[Estimate, Serving]:
    """The deployment's estimate with its running sequences at full length (memory, single-prompt
    prefill) and the per-request figures under ``workload``. A deployment that cannot hold one
    sequence returns ``running == 0``; its estimate says why (``memory.fits``). ``known``: an
    estimate of ``d`` already made at the workload's context and prompt, reused where its batch matches
    (:func:`dsadvisor.serving.search.sweep` passes the batch-1 estimate every concurrency shares)."""
    return _serve(d, workload, scheduler, known, whole=True)


def serve_figures(d: Deployment, workload: Workload, known: Estimate | None = None) -> Serving:
    """``serve(d, workload, known=known)[1]`` without the estimate at the running batch, of which only its
    KV cache counts: what the layout search serves its points with."""
    return _serve(d, workload, None, known, whole=False)[1]


def _serve(d: Deployment, workload: Workload, scheduler: Scheduler | None, known: Estimate | None,
           whole: bool) -> tuple[Estimate, Serving]:
    c, isl, osl = workload.concurrency, workload.prompt_tokens, workload.output_tokens
    at: dict[str, Any] = dict(context=workload.context, prompt_tokens=isl)

    made = {known.batch: known} if known is not None and (known.context, known.prompt_tokens) == \
        (workload.context, isl) else {}

    def at_batch(b: int) -> Estimate:
        if b not in made:
            made[b] = estimate(replace(d, batch=b, **at))
        return made[b]

    one = at_batch(1)
    sched = scheduler or scheduler_for(d.engine.id, d.gpu.memory_gb)
    running, limit = running_slots(one, workload, sched)
    if running == 0:
        return one, Serving(c, 0, isl, osl, None, one.decode_step_s, 0.0, 0.0, False, 0.0, "kv-cache")
    full = at_batch(running) if whole or running in made else None
    kv = full.memory.kv_cache if full is not None else kv_cache_per_gpu(replace(d, batch=running, **at))
    full = full or one
    step, tokens = decode_per_token(d, running, workload, sched, one.dp_attention)
    prompt_factor = 1.0
    if d.layout is not None and d.layout.mtp and d.architecture is not None:  # the draft layer prefills too
        from dsadvisor.serving.speculative import prefill_factor

        prompt_factor = prefill_factor(d.architecture)
        if sched.speculation_stops_overlap:  # SGLang 0.5.x: no overlap scheduler with EAGLE drafts
            sched = replace(sched, scheduled_ahead=0)
    # each data-parallel attention group schedules its own prompts under its own token budget
    dp = one.dp_attention
    budget = sched.group_budget(dp)
    per_batch = max(1, min(running, max(1, budget // isl) * dp))
    # the batched prefill alone: a whole estimate's memory plan and decode step would be thrown away
    batched = made[per_batch].ttft_s if per_batch in made else prefill_time(replace(d, batch=per_batch, **at))
    if one.ttft_single_s is None or batched is None:
        return full, Serving(c, running, isl, osl, None, step, 0.0, 0.0, False, kv, limit, tokens)
    own = one.ttft_single_s * prompt_factor + dp_chunk_forwards_s(sched, dp, isl, step * tokens)
    served = steady_state(own, batched / per_batch * prompt_factor, step, workload, running,
                          replace(sched, token_budget=budget), kv, limit, dp=dp)
    return full, replace(served, tokens_per_step=tokens)


def dp_chunk_forwards_s(sched: Scheduler, dp: int, prompt_tokens: int, forward_s: float) -> float:
    """What a prompt's extra chunk forwards add to its own prefill where the engine splits the token budget
    over data-parallel attention groups (SGLang, ``Scheduler.splits_budget_over_dp``): the prompt takes
    ``ceil(prompt / (budget // dp))`` forwards, and the groups run every forward together (the MoE layers
    take all groups' tokens at once), so each chunk after the first also carries the other groups' decode
    step, ``forward_s``. Without the split, or with one group, 0 (a non-mixing engine prefills a prompt
    in the forwards its own prefill time already counts)."""
    if not sched.splits_budget_over_dp or dp <= 1:
        return 0.0
    return (math.ceil(prompt_tokens / sched.group_budget(dp)) - 1) * forward_s


def decode_per_token(d: Deployment, running: int, workload: Workload, sched: Scheduler,
                     groups: int) -> tuple[float, float]:
    """Seconds per output token of a decode step of ``running`` sequences at the workload's mean length, and
    the tokens a sequence gains per step (> 1 with MTP drafts): the GPU's step plus the host's per-request
    work, once a step for each running request of its attention group (``groups`` of them: each group's
    scheduler handles its own requests), which a speculative step's accepted tokens share. Aggregated and
    disaggregated (decode-instance) serving both take their step from here."""
    step = decode_step(replace(d, batch=running, context=workload.mean_context, prompt_tokens=workload.prompt_tokens))
    host = sched.host_per_sequence_s * math.ceil(running / groups)
    tokens = 1.0
    if d.layout is not None and d.layout.mtp and d.architecture is not None:
        from dsadvisor.serving.speculative import speculative_step

        spec = speculative_step(d, running, workload.mean_context, workload.prompt_tokens, plain_step_s=step)
        step, tokens = spec.per_token_s, spec.tokens_per_step
    return step + host / tokens, tokens


def _queue_s(others: float, rho: float, p: float, step: float, r: int, in_step: float, recv: int = 1,
             ahead: int = 0) -> float:
    """A new request's wait before its prompt starts: the scheduler's next poll (if others run: half the
    ``recv`` decode steps between polls, half the iteration in progress by default) and the ``ahead``
    batches already scheduled behind the one in progress (vLLM's async scheduling and TensorRT-LLM's
    overlap scheduler: one),
    half of the others' prompts for those arriving together, and the random arrivals' M/D/1 wait
    (at most all others ahead)."""
    random_wait = min(others * p / (2.0 * (1.0 - rho)), (r - 1) * p)
    return (r - 1) / r * step * (recv / 2 + ahead) + in_step * (r - 1) / 2 * p + (1 - in_step) * random_wait


def tokenizer_queue_s(rho: float, p: float, tokenize_s: float, r: float, in_step: float) -> float:
    """A new request's wait for the server's one tokenizer thread (vLLM's API server and trtllm-serve tokenize
    prompts on one thread, ``Scheduler.per_prompt_token_s``), ``tokenize_s`` a prompt: those arriving together
    wait for half of the others' prompts, the random arrivals an M/D/1 wait at the tokenizer's load ``lam *
    tokenize_s`` (``lam = rho / p`` requests a second; at most all others ahead). Added to the GPU's queue, not
    overlapped with it as a tandem queue would be: the served runs' excess over the GPU's queue grows with users
    by about this much at TP 1-8 alike (docs/method.md, "Serving under load")."""
    if tokenize_s <= 0.0 or r <= 1:
        return 0.0
    load = min(SATURATED, rho / p * tokenize_s) if p > 0.0 else 0.0
    random_wait = min(load * tokenize_s / (2.0 * (1.0 - load)), (r - 1) * tokenize_s)
    return in_step * (r - 1) / 2 * tokenize_s + (1 - in_step) * random_wait


def held_s(sched: Scheduler, lam: float, tpot: float, running: int, dp: int, prompt_tokens: int) -> float:
    """Seconds the engine holds a prompt back on purpose (TensorRT-LLM's batch waiting or attention-DP
    balancing, serving/holds.py) at ``lam`` requests per second and one iteration per ``tpot``."""
    if not (sched.batch_wait_iters or sched.batch_wait_ratio or sched.adp_balance_iters):
        return 0.0
    from dsadvisor.serving.holds import adp_balance, batch_wait

    arrivals = lam * tpot
    if dp > 1:
        return adp_balance(sched.adp_balance_iters, dp, arrivals, running) * tpot
    return batch_wait(sched.batch_wait_iters, sched.batch_wait_ratio, sched.token_budget, arrivals, running,
                      prompt_tokens) * tpot


def steady_state(p1: float, p: float, step: float, w: Workload, running: int, sched: Scheduler, kv: float,
                  limit: str | None, dp: int = 1) -> Serving:
    """Per-request figures from one prompt's prefill time ``p1``, a prompt's share ``p`` of a batched
    prefill and one decode step ``step`` of the running batch.

    Solves the closed loop of the ``running`` sequences for the prompt share ``rho`` (module
    docstring); requests beyond them wait for a slot: by Little's law, ``S (C / R - 1)`` for a
    service time ``S`` per request."""
    r, osl = running, w.output_tokens
    chunks = math.ceil(w.prompt_tokens / sched.token_budget) if sched.chunks_prompts else 1
    own = p1 + (chunks - 1) * step if sched.mixes_prefill else p1
    in_step = COHORT if w.in_step is None else w.in_step
    tokenize_s = sched.per_prompt_token_s * w.prompt_tokens
    rho, ttft, tpot, queue, new = 0.0, own, step, 0.0, 0.0
    for i in range(200):
        if i == 0 or r > 1:  # one sequence alone: no other prompt stalls it or queues ahead, whatever rho is
            others = rho * (r - 1) / r  # the other requests' prompts: one's own does not stall its decode
            tpot = step / (1.0 - others)
            queue = (_queue_s(others, rho, p, step, r, in_step, sched.recv_interval, sched.scheduled_ahead)
                     + tokenizer_queue_s(rho, p, tokenize_s, r, in_step)
                     + held_s(sched, rho / p, tpot, r, dp, w.prompt_tokens))
            ttft = sched.request_cost_s(w.prompt_tokens) + queue + own
            new = min(SATURATED, r * p / (ttft + (osl - 1) * tpot))
        if abs(new - rho) < 1e-9:
            break
        rho = 0.5 * (rho + new)
    slot_wait = (ttft + (osl - 1) * tpot) * (w.concurrency / r - 1)
    return Serving(w.concurrency, r, w.prompt_tokens, osl, ttft + slot_wait, tpot, queue + slot_wait, rho,
                   rho >= SATURATED - 1e-6, kv, limit)


def estimate_serving(d: Deployment) -> tuple[Estimate, Serving]:
    """``estimate(d)`` and its figures under load: ``d.batch`` requests in flight, each with
    ``prompt_tokens`` in and the rest of ``context`` out."""
    est = estimate(d)
    return est, serve_estimated(d, est)


def serve_estimated(d: Deployment, est: Estimate) -> Serving:
    """The figures under load of a deployment already estimated: ``d.batch`` requests in flight,
    each with ``prompt_tokens`` in and the rest of ``context`` out."""
    workload = Workload(d.batch, est.prompt_tokens, max(1, est.context - est.prompt_tokens))
    return serve(d, workload, known=est)[1]


@record(frozen=True)
class PerRequest:
    """What one request sees: under load when a deployment was served, else one batch of its estimate."""

    ttft_s: float | None
    tpot_s: float
    tokens_per_s_per_user: float
    tokens_per_s_total: float


def per_request(est: Estimate, served: Serving | None) -> PerRequest:
    """The figures the recommend table shows and DSA005-DSA008 check, from one place."""
    if served is not None:
        return PerRequest(served.ttft_s, served.tpot_s, served.tokens_per_s_per_user, served.tokens_per_s_total)
    return PerRequest(est.ttft_single_s, est.decode_step_s, est.per_sequence_tokens_per_s, est.decode_tokens_per_s)
