"""Scheduler holds: iterations a prompt waits on purpose before an engine prefills it.

TensorRT-LLM's PyTorch executor can hold context (prompt) requests back so that more of them are
prefilled in one iteration (tensorrt_llm/_torch/pyexecutor/py_executor.py, ``_schedule``):

- **Batch waiting** (``batch_wait_timeout_iters``, ``batch_wait_max_tokens_ratio``; both 0, i.e. off,
  by default; not with attention DP): while generation requests run, waiting prompts are held until
  the iteration's tokens (prompts + one per running sequence) reach ``ratio x max_num_tokens`` or the
  hold has lasted ``timeout`` iterations (``_waiting_requests``).
- **Attention-DP balancing** (``attention_dp_config.enable_balance``, off by default; ``timeout_iters``
  50 by default): with data-parallel attention, prompts are held until every rank has one to prefill
  (so all ranks prefill in the same iteration) or ``timeout_iters`` iterations have passed
  (``_balance_adp_requests``). New requests go to the rank with the fewest active requests
  (``executor_request_queue._balance_requests_across_ranks``), i.e. where one just finished: in a
  closed loop the ranks receive prompts at random, so covering all ``D`` of them takes ``D H_D``
  arrivals (coupon collector, ``H_D`` the harmonic number).

Both are a window that opens when a prompt arrives and closes after ``T`` iterations; prompts arriving
inside it (``a`` per iteration) wait for what is left of it. Mean hold per prompt:
``T (1 + a T / 2) / (1 + a T)``.
"""

from __future__ import annotations

import math

# Measured hold of a prompt under attention-DP balancing, in units of the window above. The window
# formula gives what the code implies with prompts that fill every rank; NVIDIA's served runs with
# enable_balance (timeout_iters 60, InferenceX's DeepSeek-R1 scripts) wait longer: each release
# prefills at most max_num_tokens of prompts per rank (one prompt in those runs), so a rank that drew
# two waits for the next window. Fitted on the fit part of aiconfigurator's silicon_sample (DP runs of
# TensorRT-LLM, benchmarks/serving_calibration.py --holds), docs/method.md "Serving under load".
ADP_HOLD_FACTOR = 1.5


def window_hold(window: float, arrivals: float) -> float:
    """Mean iterations a prompt is held by a window of ``window`` iterations that opens at the first
    prompt, with ``arrivals`` more prompts per iteration arriving inside it."""
    if window <= 0:
        return 0.0
    inside = arrivals * window
    return window * (1 + inside / 2) / (1 + inside)


def batch_wait(timeout: int, ratio: float, budget: int, arrivals: float, running: int, prompt_tokens: int) -> float:
    """Iterations a prompt is held by TensorRT-LLM's batch waiting: the window closes at ``timeout``
    iterations or when enough prompts have arrived for ``ratio x budget`` tokens with the ``running - 1``
    other sequences' decode tokens."""
    if running <= 1 or (timeout <= 0 and ratio <= 0):
        return 0.0
    window = float(timeout) if timeout > 0 else math.inf
    if ratio > 0:
        prompts = math.ceil(max(0.0, ratio * budget - (running - 1)) / prompt_tokens)
        if prompts <= 1:
            return 0.0
        if arrivals > 0:
            window = min(window, (prompts - 1) / arrivals)
    return window_hold(window, arrivals) if math.isfinite(window) else 0.0


def adp_balance(timeout: int, ranks: int, arrivals: float, running: int) -> float:
    """Iterations a prompt is held by attention-DP balancing over ``ranks`` ranks: until every rank
    has a prompt (``ranks H_ranks`` arrivals) or ``timeout`` iterations. No hold while a rank has no
    sequence running (the code releases at once then)."""
    if timeout <= 0 or ranks <= 1 or running < ranks:
        return 0.0
    cover = ranks * sum(1.0 / k for k in range(1, ranks + 1)) - 1
    window = float(timeout) if arrivals <= 0 else min(float(timeout), cover / arrivals)
    return ADP_HOLD_FACTOR * window_hold(window, arrivals)
