"""Disaggregated prefill and decode: prompts run on one pool of engine instances, answers on another,
the KV cache of each prompt sent from the first to the second (SGLang ``--disaggregation-mode
prefill|decode`` behind ``sglang_router --pd-disaggregation``; TensorRT-LLM's disaggregated serving and
vLLM's KV connectors, both through NVIDIA Dynamo).

Under a closed loop of ``C`` users (as :mod:`dsadvisor.serving.server`):

- the decode pool's ``D`` instances share the running sequences, ``C / D`` each (fewer when an
  instance's KV cache or scheduler holds no more); TPOT = one decode step of that batch at the mean
  length with the engine's host time per running request (SGLang's, per attention group), as
  aggregated serving takes it (:func:`dsadvisor.serving.server.decode_per_token`): no prompt ever runs
  in between, which is what disaggregation buys;
- prompts arrive at ``lam = C / (TTFT + (out - 1) TPOT)`` and the prefill pool's ``P`` instances each
  spend the share ``rho = lam p / P`` of their time on them, ``p`` being a prompt's part of a batch as
  large as the engine's token budget allows (SGLang's chunk sized by the GPU's memory, as aggregated);
- TTFT = the engine's fixed cost per request and its prompt's tokenizing (``Scheduler.request_cost_s``)
  + the wait for the prompts ahead (the same cohort and M/D/1 terms as aggregated serving, over ``P``
  instances), at the GPU and at the prefill server's one tokenizer thread (vLLM, TensorRT-LLM) + the
  prompt's own prefill + sending its KV cache to the decode instance + half a decode step (it joins the
  decode batch at the next iteration).

Nothing here is fitted: the prefill and decode times are :func:`estimate`'s, the queue constants the
aggregated model's (``COHORT``).
"""

from __future__ import annotations

import math

from dsadvisor.errors import InputError
from dsadvisor.physics.estimate import Deployment, Estimate, check_layout, estimate, kv_bytes_per_element
from dsadvisor.physics.memory import kv_bytes_per_token
from dsadvisor.physics.timing import INTER_NODE_BANDWIDTH, Layout
from dsadvisor.records import record, replace
from dsadvisor.serving.prefill_batches import PrefillBatches
from dsadvisor.serving.scheduler import Scheduler, scheduler_for
from dsadvisor.serving.server import COHORT, SATURATED, Serving, decode_per_token, running_slots, tokenizer_queue_s
from dsadvisor.serving.workload import Workload

# Rounds of the decode batch's fixed point (users decoding -> TPOT -> TTFT -> users decoding); the batch, moved
# halfway to each new value, settles within a sequence (or 1 %) in at most 9 on NVIDIA's disaggregated runs
DECODE_BATCH_ROUNDS = 12

# Engines that serve prefill and decode from separate instances, and how (their own docs).
DISAGGREGATING = {
    "sglang": "docs.sglang.io advanced_features/pd_disaggregation (--disaggregation-mode prefill|decode, "
              "sglang_router.launch_router --pd-disaggregation)",
    "tensorrt-llm": "nvidia.github.io/TensorRT-LLM features/disagg-serving (trtllm-serve disaggregated, "
                    "context and generation servers)",
    "vllm": "docs.vllm.ai features/disagg_prefill (KV connectors; NVIDIA Dynamo for serving)",
}


@record(frozen=True)
class Split:
    """``prefill_workers`` instances of ``prefill`` for prompts and ``decode_workers`` of ``decode`` for answers."""

    prefill: Layout
    prefill_workers: int
    decode: Layout
    decode_workers: int

    @property
    def gpus(self) -> int:
        return self.prefill.gpus * self.prefill_workers + self.decode.gpus * self.decode_workers

    @property
    def label(self) -> str:
        return f"{self.prefill_workers}P {_short(self.prefill)} + {self.decode_workers}D {_short(self.decode)}"


def _short(lay: Layout) -> str:
    parts = [f"TP{lay.tp}"] + (["EP"] if lay.ep else []) + ([f"DPA{lay.dp_attention}"] if lay.dp_attention > 1 else [])
    return " ".join(parts + ([f"MTP{lay.mtp}"] if lay.mtp else []))


def check_split(d: Deployment, split: Split) -> None:
    """A split the engine can serve on ``d.gpus`` GPUs (an InputError saying why not)."""
    if d.engine.id not in DISAGGREGATING:
        raise InputError(f"{d.engine.name} does not serve prefill and decode from separate instances")
    if split.prefill_workers < 1 or split.decode_workers < 1:
        raise InputError("a disaggregated layout needs at least one prefill and one decode instance")
    if split.gpus != d.gpus:
        raise InputError(f"{split.label} is {split.gpus} GPUs, not --gpus {d.gpus}")
    arch = d.architecture
    if arch is None:
        raise InputError(f"{d.model.id} has no architecture to split")
    for lay in (split.prefill, split.decode):
        check_layout(lay, arch, d.engine, lay.gpus, d.gpus_per_node)


def transfer_s(d: Deployment, split: Split, prompt_tokens: int) -> float:
    """Seconds to send one prompt's KV cache from its prefill instance to its decode instance. The prompt's
    cache sits on its own attention group of the prefill instance (``attention_tp`` GPUs: all of them
    without data-parallel attention, one with it), which send at once; each GPU of the decode instance's
    attention group receives its share (MLA: the whole latent, replicated on every tensor-parallel rank,
    ``kv_bytes_per_token``). Over NVLink inside one NVLink domain, else over one network port per GPU
    (InfiniBand NDR, physics.timing.INTER_NODE_BANDWIDTH); the busier side sets the time."""
    arch = d.architecture
    assert arch is not None
    _, elem = kv_bytes_per_element(d)
    mla = d.engine.memory.decompressed_mla_cache
    senders, receivers = split.prefill.attention_tp, split.decode.attention_tp
    per_receiver = kv_bytes_per_token(arch, elem, receivers, mla) * prompt_tokens
    link = d.gpu.interconnect
    one_node = split.gpus <= d.gpus_per_node and link is not None and link.kind == "nvlink"
    per_gpu = link.bandwidth_gbs * 1e9 if one_node and link is not None else INTER_NODE_BANDWIDTH
    return max(per_receiver * receivers / senders, per_receiver) / per_gpu


def _pool(d: Deployment, layout: Layout) -> Deployment:
    return replace(d, gpus=layout.gpus, layout=layout)


def serve_disaggregated(d: Deployment, split: Split, workload: Workload, scheduler: Scheduler | None = None,
                        prefill_moe_backend: str | None = None) -> tuple[Estimate, Serving]:
    """The decode instance's estimate with its running sequences at full length, and the per-request
    figures of ``split`` under ``workload`` (``running == 0``: not one request fits an instance).
    ``prefill_moe_backend``: the fused-MoE kernel the prefill instances' launch names (``Deployment.moe_backend``;
    TensorRT-LLM recipes set the context and generation servers' ``moe_config.backend`` apart)."""
    check_split(d, split)
    sched = scheduler or scheduler_for(d.engine.id, d.gpu.memory_gb)  # as aggregated: SGLang's chunk by memory
    c, isl, osl = workload.concurrency, workload.prompt_tokens, workload.output_tokens
    pre, dec = _pool(d, split.prefill), _pool(d, split.decode)
    if prefill_moe_backend is not None:
        pre = replace(pre, moe_backend=prefill_moe_backend)
    per_instance = Workload(math.ceil(c / split.decode_workers), isl, osl)
    one = estimate(replace(dec, batch=1, context=workload.context, prompt_tokens=isl))
    first = estimate(replace(pre, batch=1, context=workload.context, prompt_tokens=isl))
    slots, limit = running_slots(one, per_instance, sched)
    if slots == 0 or first.memory.kv_capacity_tokens < isl or first.ttft_single_s is None:
        return one, Serving(c, 0, isl, osl, None, one.decode_step_s, 0.0, 0.0, False, 0.0, "kv-cache")
    full = estimate(replace(dec, batch=slots, context=workload.context, prompt_tokens=isl))
    # prompts per prefill batch: the engine's token budget per attention group (SGLang splits it over the groups)
    per_batch = max(1, min(math.ceil(c / split.prefill_workers),
                           max(1, sched.group_budget(first.dp_attention) // isl) * first.dp_attention))
    batched = estimate(replace(pre, batch=per_batch, context=workload.context, prompt_tokens=isl)).ttft_s
    assert batched is not None
    own = sched.request_cost_s(isl) + first.ttft_single_s + transfer_s(d, split, isl)
    running = min(c, slots * split.decode_workers)
    batches = PrefillBatches.between(first.ttft_single_s, batched, per_batch) if per_batch > 1 else None
    batch, served = slots, None
    for _ in range(DECODE_BATCH_ROUNDS):  # the decode batch holds the users decoding, not every user
        step = decode_per_token(dec, batch, workload, sched, one.dp_attention)[0]
        served = _steady_state(own + step / 2, batched / per_batch, step, workload, running,
                               split.prefill_workers, sched.per_prompt_token_s * isl, batches)
        new = min(slots, max(1, math.ceil(decoding(served, running) / split.decode_workers)))
        if abs(new - batch) <= max(1, 0.01 * batch):
            break
        batch = (batch + new + 1) // 2
    assert served is not None
    return full, replace(served, kv_cache_bytes=full.memory.kv_cache, limited_by=limit if running < c else None)


def decoding(s: Serving, running: int) -> float:
    """Users in a decode batch at once, at most ``running``: each of the ``C`` spends ``(out - 1) TPOT`` of its
    ``TTFT + (out - 1) TPOT`` cycle decoding (Little's law); the rest wait for a prefill instance, are in one,
    or wait for a decode slot. A prefill pool that cannot keep up thus leaves the decode batch short."""
    assert s.ttft_s is not None
    decode_s = (s.output_tokens - 1) * s.tpot_s
    return min(float(running), s.concurrency * decode_s / (s.ttft_s + decode_s)) if decode_s > 0 else float(running)


def _steady_state(own: float, p: float, step: float, w: Workload, running: int, workers: int,
                  tokenize_s: float = 0.0, batches: PrefillBatches | None = None) -> Serving:
    """TTFT and TPOT of ``running`` sequences whose prompts queue at ``workers`` prefill instances
    (``own``: a prompt's own prefill, transfer and join; ``p``: its share of a batched prefill;
    ``tokenize_s``: its tokenizing on the prefill server's one thread, where prompts queue too; ``batches``:
    the instance's forwards, which take every prompt waiting, or None where one forward holds one prompt and
    the prompts queue one by one, an M/D/1 queue)."""
    osl, ttft, rho = w.output_tokens, own, 0.0
    ahead = (running - 1) / workers  # prompts of a cohort queued at the same instance before this one
    in_step = COHORT if w.in_step is None else w.in_step
    queue = 0.0
    for _ in range(200):
        if batches is None:
            random_wait = min(rho * p / (2.0 * (1.0 - rho)), ahead * p)
        else:  # the prompts of this instance's other users: rho / p a second come from its running / workers
            random_wait = batches.wait_s(rho / p * max(0.0, 1.0 - workers / running))
        queue = (in_step * ahead / 2 * p + (1 - in_step) * random_wait
                 + tokenizer_queue_s(rho, p, tokenize_s, ahead + 1, in_step))
        ttft = queue + own
        new = min(SATURATED, running * p / workers / (ttft + (osl - 1) * step))
        if abs(new - rho) < 1e-9:
            break
        rho = 0.5 * (rho + new)
    slot_wait = (ttft + (osl - 1) * step) * (w.concurrency / running - 1)
    return Serving(w.concurrency, running, w.prompt_tokens, osl, ttft + slot_wait, step, queue + slot_wait, rho,
                   rho >= SATURATED - 1e-6, 0.0, None)


def splits(d: Deployment, sizes: tuple[int, ...] = (1, 2, 4, 8)) -> list[Split]:
    """Every way to give ``d.gpus`` GPUs to prefill and decode instances the engine can serve: instances
    of ``sizes`` GPUs (at most a node), prefill instances tensor (and expert) parallel, decode instances
    also with data-parallel attention over all their GPUs. The layouts the model cannot split are left out."""
    arch = d.architecture
    if d.engine.id not in DISAGGREGATING or arch is None or d.gpus < 2:
        return []
    out = []
    for p_size in (s for s in sizes if s <= d.gpus_per_node):
        for d_size in (s for s in sizes if s <= d.gpus_per_node):
            for p_workers in range(1, d.gpus // p_size + 1):
                rest = d.gpus - p_workers * p_size
                if rest < d_size or rest % d_size:
                    continue
                for decode in _instance_layouts(d, d_size, decode=True):
                    for prefill in _instance_layouts(d, p_size, decode=False):
                        out.append(Split(prefill, p_workers, decode, rest // d_size))
    return out


def _instance_layouts(d: Deployment, gpus: int, decode: bool) -> list[Layout]:
    arch = d.architecture
    assert arch is not None
    moe_ep = arch.is_moe and d.engine.expert_parallel and gpus > 1
    groups = (1, gpus) if decode and gpus > 1 and arch.is_moe and d.engine.data_parallel_attention else (1,)
    out = []
    for dp in groups:
        lay = Layout(tp=gpus, ep=moe_ep, dp_attention=dp)
        try:
            check_layout(lay, arch, d.engine, gpus, d.gpus_per_node)
        except InputError:
            continue
        out.append(lay)
    return out
