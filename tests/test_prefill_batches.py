"""A disaggregated prefill server's forwards (serving.prefill_batches): each takes every prompt waiting, so a
prompt waits for the forward in progress and runs with the prompts that arrived during it."""

from __future__ import annotations

import pytest

from dsadvisor.serving.disaggregated import _steady_state, serve_disaggregated
from dsadvisor.serving.prefill_batches import PrefillBatches
from dsadvisor.serving.workload import Workload

from .test_disaggregated import ONE_EACH, r1

# a forward of n prompts: 0.15 s + 0.01 s a prompt, at most 64 prompts
FORWARDS = PrefillBatches.between(0.16, 0.15 + 0.01 * 64, 64)


def test_two_estimates_give_the_forward_by_hand():
    assert (FORWARDS.fixed, FORWARDS.marginal, FORWARDS.most) == pytest.approx((0.15, 0.01, 64))


def test_a_prompt_no_one_else_sends_never_waits():
    assert FORWARDS.wait_s(0.0) == 0.0


def test_a_busy_server_makes_a_prompt_wait_half_a_forward_and_run_with_the_others():
    # 50 other prompts a second: the forward a prompt joins holds n = 1 + 50 (0.15 + 0.01 n) prompts, n = 17,
    # 0.32 s, and the server is always busy: half of that, then 16 other prompts of 0.01 s
    n = (1 + 50 * 0.15) / (1 - 50 * 0.01)
    forward = 0.15 + 0.01 * n
    assert FORWARDS.wait_s(50.0) == pytest.approx(forward / 2 + 0.01 * (n - 1), rel=1e-4)
    # past what 64 prompts a forward carry, the forward stays the largest one
    assert FORWARDS.wait_s(1e4) == pytest.approx((0.15 + 0.64) / 2 + 0.01 * 63)


def test_the_wait_grows_with_the_others_load():
    waits = [FORWARDS.wait_s(rate) for rate in (1.0, 5.0, 20.0, 60.0)]
    assert waits == sorted(waits) and waits[0] < FORWARDS.fixed / 2 < waits[-1]


def test_a_prefill_instance_batches_where_one_by_one_it_would_barely_queue():
    # 64 users, arriving at random (no first wave), prompts of 0.16 s alone on one instance: the forwards'
    # wait (half the one in progress, the others of its own) is above the M/D/1 queue of prompts one by one at
    # the same load, and a lone user waits for neither
    w = Workload(64, 2048, 512, in_step=0.0)
    p = (0.15 + 0.01 * 64) / 64
    batched = _steady_state(0.2, p, 0.02, w, 64, 1, 0.0, FORWARDS)
    one_by_one = _steady_state(0.2, p, 0.02, w, 64, 1, 0.0, None)
    assert batched.ttft_s is not None and one_by_one.ttft_s is not None
    assert batched.ttft_s > one_by_one.ttft_s + FORWARDS.fixed / 2
    lone = Workload(1, 2048, 512, in_step=0.0)
    assert _steady_state(0.2, p, 0.02, lone, 1, 1, 0.0, FORWARDS).ttft_s == pytest.approx(0.2)


def test_served_ttft_holds_the_forward_a_prompt_joins(catalog):
    # 256 users on one prefill instance: well above a lone prompt's TTFT
    d = r1(catalog)
    s = serve_disaggregated(d, ONE_EACH, Workload(256, 2048, 512))[1]
    alone = serve_disaggregated(d, ONE_EACH, Workload(1, 2048, 512))[1]
    assert s.ttft_s is not None and alone.ttft_s is not None and s.ttft_s > 2 * alone.ttft_s
