"""How each engine schedules requests: the constants the server model needs beyond one forward pass.

Every constant says what it models and what measured it (docs/method.md, "Serving under load").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scheduler:
    engine_id: str
    # Tokens of prompts one iteration takes at most: prompts are prefilled this many tokens at a time
    # (vLLM max_num_batched_tokens, SGLang chunked_prefill_size, TRT-LLM max_num_tokens).
    token_budget: int
    # Prompt chunks ride in the same iteration as the running sequences' decode (vLLM V1 and
    # TRT-LLM by default); False: a prefill batch runs alone and decode waits (SGLang's default).
    mixes_prefill: bool
    # Seconds every request pays outside the GPU work: HTTP, tokenizing, scheduling, detokenizing.
    per_request_s: float
    # Sequences one instance runs at most (vLLM max_num_seqs, SGLang max_running_requests).
    max_running: int
    source: str


# What a request costs a served engine besides the GPU's prefill: the HTTP round trip, tokenizing, the
# scheduler's admission, streaming the first token back. Measured as the intercept of NVIDIA's served
# runs at concurrency 4-8 with 1,024-token prompts (InferenceX rows of aiconfigurator's silicon_sample,
# fit part; the estimated prefill and queue taken off, benchmarks/serving_calibration.py --intercepts):
# vLLM 57-63 ms over 44 Llama-3.1-70B runs (H100/H200/B200, TP 1-8); TensorRT-LLM 48 ms over 24 runs
# (the answers of 8,192 tokens; its 1,024-token answers run in lock step, docs/method.md). SGLang has no
# dense-model run in the set: TensorRT-LLM's figure, assumed.
PER_REQUEST_S = {"vllm": 0.060, "sglang": 0.050, "tensorrt-llm": 0.050}

SCHEDULERS = {
    "vllm": Scheduler("vllm", token_budget=8192, mixes_prefill=True, per_request_s=PER_REQUEST_S["vllm"],
                      max_running=1024,
                      source="vLLM V1 defaults: max_num_batched_tokens 8192 (online serving), chunked prefill on, "
                             "max_num_seqs 1024 on H100-class GPUs (vllm/engine/arg_utils.py)"),
    "sglang": Scheduler("sglang", token_budget=8192, mixes_prefill=False, per_request_s=PER_REQUEST_S["sglang"],
                        max_running=1024,
                        source="SGLang server_args.py: chunked_prefill_size 8192 on 80 GB+ GPUs; "
                               "enable_mixed_chunk off by default"),
    "tensorrt-llm": Scheduler("tensorrt-llm", token_budget=8192, mixes_prefill=True,
                              per_request_s=PER_REQUEST_S["tensorrt-llm"],
                              max_running=2048,
                              source="TensorRT-LLM trtllm-serve defaults: max_num_tokens 8192, max_batch_size 2048, "
                                     "in-flight batching with chunked context"),
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


def scheduler_for(engine_id: str) -> Scheduler:
    return SCHEDULERS.get(engine_id, SCHEDULERS["vllm"])
