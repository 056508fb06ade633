"""How each engine schedules requests: the constants the server model needs beyond one forward pass.

Every constant says what it models and what measured it (docs/method.md, "Serving under load").
"""

from __future__ import annotations

from dataclasses import replace

from dsadvisor.records import record


@record(frozen=True)
class Scheduler:
    engine_id: str
    # Tokens of prompts one iteration takes at most: prompts are prefilled this many tokens at a time
    # (vLLM max_num_batched_tokens, SGLang chunked_prefill_size, TRT-LLM max_num_tokens).
    token_budget: int
    # Prompt chunks ride in the same iteration as the running sequences' decode (vLLM V1 and
    # TRT-LLM by default); False: a prefill batch runs alone and decode waits (SGLang's default).
    # SGLang: python/sglang/srt/managers/scheduler.py get_next_batch_to_run builds a prefill batch first
    # ("Run prefill first if possible") and decodes only when get_new_batch_prefill returns none, i.e. when
    # nothing waits or admission stops; a prompt longer than the chunk stays the chunked_req, which the next
    # call prefills again before any decode. PrefillAdder (schedule_policy.py) fills the batch up to
    # chunked_prefill_size and max_prefill_tokens. Only --enable-mixed-chunk (off by default, server_args.py)
    # mixes the running batch in (ScheduleBatch.mix_with_running).
    mixes_prefill: bool
    # Seconds every request pays outside the GPU work: HTTP, tokenizing, scheduling, detokenizing.
    per_request_s: float
    # Sequences one instance runs at most (vLLM max_num_seqs, SGLang max_running_requests).
    max_running: int
    source: str
    # Decode iterations between two polls for new requests (SGLang --scheduler-recv-interval, default 1):
    # a request that arrives waits for the next poll, half the interval on average.
    recv_interval: int = 1
    # A prompt longer than the token budget is split over iterations (vLLM, SGLang); False: it is scheduled
    # whole in one iteration, the budget raised to it (TensorRT-LLM: enable_chunked_prefill off by default,
    # tensorrt_llm/llmapi/llm_args.py; a plan writes --max_num_tokens >= the prompt).
    chunks_prompts: bool = True
    # The KV cache a request is admitted with: its whole length (prompt + every answer token) where the
    # scheduler guarantees it never evicts (TensorRT-LLM's default capacity policy GUARANTEED_NO_EVICT,
    # tensorrt_llm/llmapi/llm_args.py SchedulerConfig; blocks reserved to completion in
    # cpp/tensorrt_llm/batch_manager/capacityScheduler.cpp); False: what it holds so far (paged caches
    # that preempt, vLLM and SGLang).
    reserves_whole_answer: bool = False
    # TensorRT-LLM's holds of prompts (serving/holds.py), 0 = off as by default: batch waiting
    # (batch_wait_timeout_iters, batch_wait_max_tokens_ratio) and attention-DP balancing
    # (attention_dp_config.enable_balance with its timeout_iters). A plan sets none of them; the
    # calibration sets what each measured run was launched with.
    batch_wait_iters: int = 0
    batch_wait_ratio: float = 0.0
    adp_balance_iters: int = 0
    # Host time per running sequence per decode step on top of the GPU's step (per-request bookkeeping,
    # output processing, streaming): grows with the batch where a small model's GPU step hardly does.
    host_per_sequence_s: float = 0.0
    # The token budget is the whole server's and each data-parallel attention group gets its share:
    # SGLang divides --chunked-prefill-size by the DP size under --enable-dp-attention ("to avoid MoE kernel
    # issues", python/sglang/srt/server_args.py _handle_data_parallelism, 0.4.x-0.5.x), so with 8 groups and
    # 8,192 tokens each group prefills 1,024 tokens a forward. False: every group has the whole budget.
    splits_budget_over_dp: bool = False
    # Batches already scheduled when a new request arrives, besides the one on the GPU: an engine that
    # schedules the next batch while one runs (SCHEDULED_AHEAD) takes a request that arrives during batch N
    # into batch N + 2, so it also waits for N + 1 whole. 0: it joins the next batch (synchronous scheduling).
    scheduled_ahead: int = 0
    # Speculative decoding turns the engine's overlap scheduling off, so nothing is scheduled ahead with MTP:
    # SGLang 0.5.x disables its overlap scheduler for EAGLE drafts unless SGLANG_ENABLE_SPEC_V2 is set
    # ("Overlap scheduler is disabled because of using eagle3 or standalone speculative decoding",
    # server_args.py _handle_speculative_decoding).
    speculation_stops_overlap: bool = False
    # Host seconds per prompt token before the engine sees the request, outside the GPU's work: the server
    # tokenizes the prompt text on one thread (VLLM_TOKENIZE_S_PER_TOKEN, TRTLLM_TOKENIZE_S_PER_TOKEN), so
    # prompts also queue there (server.tokenizer_queue_s); 0: not modelled.
    per_prompt_token_s: float = 0.0

    def request_cost_s(self, prompt_tokens: int) -> float:
        """What a request pays outside the GPU's work: the fixed per-request cost and its prompt's tokenizing."""
        return self.per_request_s + self.per_prompt_token_s * prompt_tokens

    def group_budget(self, dp_attention: int) -> int:
        """Prompt tokens one data-parallel attention group takes a forward."""
        return max(1, self.token_budget // dp_attention) if self.splits_budget_over_dp else self.token_budget


# What a request costs a served engine besides the GPU's prefill: the HTTP round trip, the scheduler's
# admission, streaming the first token back (the prompt's tokenizing is counted apart where the engine's server
# does it, *_TOKENIZE_S_PER_TOKEN below). Measured as the intercept of NVIDIA's served Llama-3.1-70B runs at
# concurrency 4-8 with 1,024-token prompts (InferenceX rows of aiconfigurator's silicon_sample, fit part only;
# the estimated prefill, queue and the ~922 prompt tokens' tokenizing taken off, benchmarks/serving_calibration.py
# --intercepts): the median over vLLM's 32 runs (H100/H200/B200, TP 1-8, FP8 and NVFP4) is 28 ms (and 8.7 ms
# tokenizing), over TensorRT-LLM's 28 (H200/B200, TP 1-8) 24 ms (and 2.7 ms), with SCHEDULED_AHEAD and NCCL's
# measured prefill all-reduce (physics.timing NCCL_ALLREDUCE). SGLang has no dense-model run in the set:
# TensorRT-LLM's whole cost at a 1K prompt before the tokenizing was split off (27 ms), assumed (SGLang schedules
# one batch ahead as TensorRT-LLM does, so the figure fitted with that lag carries over).
PER_REQUEST_S = {"vllm": 0.028, "sglang": 0.027, "tensorrt-llm": 0.024}

# Host time a decode step of SGLang adds per running request (per attention group), on top of the GPU's
# step: the scheduler's and front end's per-request work each step (result processing, finish checks,
# detokenizing, streaming). Fitted on the fit part's SGLang runs: 28 us is the smallest median TPOT error
# over 20-35 us (8.4 %; 12.1 % without). Those runs grow by it where the GPU step is the larger (Llama-3.1-8B
# at TP 1 on H200, 128-352 users: +4-10 ms; DeepSeek-R1 on 8 x B200, 128-512 users: +6-28 ms), so SGLang's
# overlap scheduler does not hide it there. SGLang's maintainers see the same growth at large batches
# (https://github.com/sgl-project/sglang/issues/23393, #12972). benchmarks/serving_calibration.py, docs/method.md.
SGLANG_HOST_PER_SEQUENCE_S = 28e-6

# Seconds per prompt token an engine's server spends tokenizing the prompt text before the engine sees the
# request, on one thread, so prompts that arrive together wait for each other (server.tokenizer_queue_s).
# vLLM's API server tokenizes on a single-thread executor (vllm/entrypoints/openai/serving_engine.py
# `ThreadPoolExecutor(max_workers=1)`, from vllm-project/vllm PR 10635; later vllm/utils/async_utils.py
# AsyncMicrobatchTokenizer: "A single-thread ThreadPoolExecutor is used"). TensorRT-LLM's LLM.generate_async
# runs its input processor (the tokenizer) in the calling coroutine, i.e. on trtllm-serve's event-loop thread
# (tensorrt_llm/llmapi/llm.py). InferenceX's client sends text (random token ids decoded, benchmark_serving.py
# --dataset-name random), so its runs pay it; NVIDIA's gap-analysis runs went through Dynamo, whose frontend
# tokenizes instead (https://docs.nvidia.com/dynamo/dev/user-guides/fastokens-tokenizer.md), and the calibration
# sets it to 0 there. Fitted on the fit part's runs at concurrency 4-8 (serving_calibration.py --intercepts,
# refitted with PER_REQUEST_S until both residual medians are 0): how much more the 8,192-token prompts
# (7,373 sent on average) sat above the estimate than the 1,024-token ones (922), over the 6,451 tokens between:
# vLLM 9.4 us a token (16 and 32 runs; 60-75 ms more at 8K on B200 at TP 1, 2, 4 and 8 alike, ~30 ms on
# H100/H200: host work, not divided over GPUs), TensorRT-LLM 2.9 us (34 and 68 runs). vLLM's is slower than a
# tokenizer on prose (~1-2 us; PR 10635 speaks of a few hundred ms at 256K tokens): random-token text tokenizes
# slower, and the figure may carry other per-token host work (input processing, sending the ids on).
VLLM_TOKENIZE_S_PER_TOKEN = 9.4e-6
TRTLLM_TOKENIZE_S_PER_TOKEN = 2.9e-6

# Batches vLLM and TensorRT-LLM schedule ahead of the GPU. vLLM's async scheduling keeps a batch queue of two:
# it schedules the next batch before it waits for the one running (vllm/v1/engine/core.py
# step_with_batch_queue; on by default since vllm-project/vllm PR 27614, issue 27679, and set by InferenceX's
# vLLM runs, `async-scheduling: true` in its 70b_fp8_*.sh launch scripts at 9596d23d7). TensorRT-LLM's overlap
# scheduler (on unless disable_overlap_scheduler) fetches new requests, schedules and launches a batch, and
# only then waits for the previous one (tensorrt_llm/_torch/pyexecutor/py_executor.py _executor_loop_overlap).
# SGLang's overlap scheduler (on unless --disable-overlap-schedule) does the same: each loop receives requests,
# schedules and launches batch N + 1, and only then processes batch N's results, so a request that arrives
# after the receive that preceded N + 1 joins N + 2 (python/sglang/srt/managers/scheduler.py event_loop_overlap).
SCHEDULED_AHEAD = 1

SCHEDULERS = {
    "vllm": Scheduler("vllm", token_budget=8192, mixes_prefill=True, per_request_s=PER_REQUEST_S["vllm"],
                      max_running=1024, scheduled_ahead=SCHEDULED_AHEAD,
                      per_prompt_token_s=VLLM_TOKENIZE_S_PER_TOKEN,
                      source="vLLM V1 defaults: max_num_batched_tokens 8192 (online serving), chunked prefill on, "
                             "max_num_seqs 1024 on H100-class GPUs (vllm/engine/arg_utils.py); async scheduling "
                             "(one batch scheduled ahead, vllm/v1/engine/core.py step_with_batch_queue); "
                             "prompts tokenized on the API server's one tokenizer thread"),
    "sglang": Scheduler("sglang", token_budget=8192, mixes_prefill=False, per_request_s=PER_REQUEST_S["sglang"],
                        max_running=1024, host_per_sequence_s=SGLANG_HOST_PER_SEQUENCE_S,
                        splits_budget_over_dp=True, scheduled_ahead=SCHEDULED_AHEAD, speculation_stops_overlap=True,
                        source="SGLang server_args.py: chunked_prefill_size 8192 on 80-160 GB GPUs (16384 above, "
                               "sglang_chunk); enable_mixed_chunk off by default; under --enable-dp-attention "
                               "each DP rank gets chunked_prefill_size // dp (_handle_data_parallelism); overlap "
                               "scheduler on (one batch scheduled ahead, off with EAGLE/MTP drafts)"),
    "tensorrt-llm": Scheduler("tensorrt-llm", token_budget=8192, mixes_prefill=True,
                              per_request_s=PER_REQUEST_S["tensorrt-llm"],
                              max_running=2048, reserves_whole_answer=True, chunks_prompts=False,
                              scheduled_ahead=SCHEDULED_AHEAD, per_prompt_token_s=TRTLLM_TOKENIZE_S_PER_TOKEN,
                              source="TensorRT-LLM trtllm-serve defaults: max_num_tokens 8192, max_batch_size 2048, "
                                     "in-flight batching (context and generation requests in one iteration); "
                                     "capacity policy GUARANTEED_NO_EVICT, enable_chunked_prefill off, overlap scheduler on "
                                     "(tensorrt_llm/llmapi/llm_args.py); prompts tokenized on the server's event loop"),
    "llama.cpp": Scheduler("llama.cpp", token_budget=2048, mixes_prefill=True, per_request_s=0.0, max_running=1024,
                           source="llama-server: -b 2048 logical batch; -np slots, which a plan sizes to the "
                                  "concurrency (tools/server/README.md)"),
    "ollama": Scheduler("ollama", token_budget=2048, mixes_prefill=True, per_request_s=0.0, max_running=1024,
                        source="Ollama FAQ (https://docs.ollama.com/faq): OLLAMA_NUM_PARALLEL parallel requests "
                               "(default 1), which a plan sizes to the concurrency; batching as llama.cpp's server"),
    "transformers": Scheduler("transformers", token_budget=1 << 30, mixes_prefill=False, per_request_s=0.0,
                              max_running=1024, source="transformers generate(): the requests as one batch, "
                                                       "prompts prefilled whole"),
}


def sglang_chunk(memory_gb: float) -> int:
    """SGLang's chunked_prefill_size left unset, by the GPU's memory (server_args.py
    ``_handle_gpu_memory_settings``, 0.5.x): 2048 under 35 GB, 4096 under 60, 8192 under 160, then 16384."""
    return 2048 if memory_gb < 35 else 4096 if memory_gb < 60 else 8192 if memory_gb < 160 else 16384


def scheduler_for(engine_id: str, memory_gb: float | None = None) -> Scheduler:
    """The engine's scheduler; SGLang's prefill chunk sized by the GPU's memory when it is given."""
    sched = SCHEDULERS.get(engine_id, SCHEDULERS["vllm"])
    if engine_id == "sglang" and memory_gb is not None:
        sched = replace(sched, token_budget=sglang_chunk(memory_gb))
    return sched
