"""Ollama: ``ollama serve``, then ``ollama pull`` / ``ollama run`` of a library tag
(https://docs.ollama.com/faq; github.com/ollama/ollama). Settings are the server's environment:
OLLAMA_CONTEXT_LENGTH, OLLAMA_NUM_PARALLEL, OLLAMA_KV_CACHE_TYPE (with OLLAMA_FLASH_ATTENTION=1).

Ollama sizes its KV cache for ``OLLAMA_CONTEXT_LENGTH`` tokens in each of ``OLLAMA_NUM_PARALLEL``
slots (the FAQ: required memory scales by their product), so the estimate's context and batch map
onto them one to one. Layers that do not fit stay on the CPU by Ollama's own scheduling.
"""

from __future__ import annotations

from dsadvisor.engines.base import LaunchJob, NodeCommands, ServingEngine
from dsadvisor.engines.common import join

KV_CACHE_TYPES = {"q8_0-kv": "q8_0", "q4_0-kv": "q4_0"}  # OLLAMA_KV_CACHE_TYPE values (default f16)
STARTUP_WAIT = "sleep 2"  # `ollama pull` talks to the server: give `ollama serve &` a moment to listen
# A manifest's init container: `ollama pull` needs a server (on Linux the CLI does not start one), so it starts
# one, waits until it answers (`ollama list` fails until then), pulls the tag ("$1", never script text) into
# OLLAMA_MODELS on the model cache, and exits; the server container then finds the model there.
PULL_SCRIPT = 'ollama serve & until ollama list >/dev/null 2>&1; do sleep 1; done; ollama pull "$1"'


def ollama_env(job: LaunchJob, notes: list[str]) -> list[tuple[str, str]]:
    """The server's settings for the estimate: its context per slot, its slots, its KV cache type."""
    est = job.estimate
    env = [("OLLAMA_CONTEXT_LENGTH", str(est.context)), ("OLLAMA_NUM_PARALLEL", str(est.batch))]
    kv = KV_CACHE_TYPES.get(est.kv_dtype)
    if kv:
        env += [("OLLAMA_FLASH_ATTENTION", "1"), ("OLLAMA_KV_CACHE_TYPE", kv)]
        notes.append("OLLAMA_KV_CACHE_TYPE takes effect only with OLLAMA_FLASH_ATTENTION=1 (Ollama FAQ)")
    if est.batch > 1:
        notes.append(f"Ollama allocates the KV cache for {est.context} tokens in each of its {est.batch} parallel "
                     f"slots ({est.context * est.batch} tokens in all: OLLAMA_NUM_PARALLEL x OLLAMA_CONTEXT_LENGTH)")
    return env


class Ollama(ServingEngine):
    id = "ollama"
    image = "ollama/ollama"  # Ollama's Docker instructions: docker run ... ollama/ollama (entrypoint ollama, command serve)
    port = 11434
    health_path = "/"  # GET / answers "Ollama is running"
    offloads = True  # its scheduler leaves the layers that do not fit on the CPU by itself
    cache_env = "OLLAMA_MODELS"  # where pulled models go (envconfig/config.go Models; default ~/.ollama/models)

    def tag(self, job: LaunchJob, notes: list[str]) -> str:
        """The library tag for the model in the estimate's format, or a placeholder and how to make one."""
        art = job.artifact
        if art is not None and art.ollama_tag:
            size = f", {art.size_bytes / 1e9:.1f} GB" if art.size_bytes else ""
            notes.append(f"{art.ollama_tag} is {job.entry.id} in {art.format}{size} ({art.source})")
            return art.ollama_tag
        name = f"{job.entry.id}-{job.estimate.quant_id}"
        notes.append(f"no Ollama library tag holds {job.entry.id} in {job.estimate.quant_id}: convert it yourself: "
                     f"make the {job.estimate.quant_id.upper()} GGUF (llama.cpp's convert_hf_to_gguf.py and "
                     f"llama-quantize), then `ollama create {name} -f Modelfile` with `FROM ./<that>.gguf` in the "
                     f"Modelfile, and use {name} for <ollama-tag>")
        return "<ollama-tag>"

    def server_argv(self, job: LaunchJob, notes: list[str]) -> list[str]:
        return ["ollama", "serve"]

    def nodes(self, job: LaunchJob, notes: list[str]) -> NodeCommands:
        env = ollama_env(job, notes)
        tag = self.tag(job, notes)
        lines = (join(["export", *(f"{k}={v}" for k, v in env)]), "ollama serve &", STARTUP_WAIT,
                 join(["ollama", "pull", tag]), join(["ollama", "run", tag]))
        notes.append(f"`ollama serve` reads its settings from the environment it starts in; once pulled, the model "
                     f"answers on http://localhost:{self.port} (OpenAI-compatible under /v1); `ollama run` opens a chat")
        if not job.estimate.memory.fits:
            notes.append("the whole model does not fit in GPU memory: Ollama keeps the layers that do not fit on "
                         "the CPU by itself (`ollama ps` shows the split); decoding is then bound by CPU memory")
        return NodeCommands([lines], ["ollama", "serve"], env=tuple(env), init=("/bin/sh", "-c", PULL_SCRIPT, "sh", tag),
                            k8s_note=f"in the manifest an init container pulls {tag} into OLLAMA_MODELS on the model "
                            "cache before the server starts: the server answers its health check (GET /) with no "
                            "model pulled, and a request for a model it lacks gets 404")

    def container(self, argv: list[str], setup: tuple[str, ...]) -> dict[str, list[str]]:
        return {"args": list(argv[1:])}  # the image's entrypoint is `ollama` itself


ENGINE = Ollama
