"""`dsadvisor models` lists every described and released variant, counted against the sources."""

from __future__ import annotations

# one id per checkpoint named in shared/reference/deepseek-released.md
RELEASED = {
    "deepseek-llm-7b-base", "deepseek-llm-7b-chat", "deepseek-llm-67b-base", "deepseek-llm-67b-chat",
    "deepseek-coder-1.3b-base", "deepseek-coder-1.3b-instruct", "deepseek-coder-6.7b-base",
    "deepseek-coder-6.7b-instruct", "deepseek-coder-33b-base", "deepseek-coder-33b-instruct",
    "deepseek-math-7b-base", "deepseek-math-7b-instruct", "deepseek-math-7b-rl", "deepseek-moe-16b-base",
    "deepseek-moe-16b-chat", "deepseek-v2", "deepseek-v2-chat", "deepseek-v2-lite", "deepseek-v2-lite-chat",
    "deepseek-v2.5", "deepseek-coder-v2-lite-base", "deepseek-coder-v2-lite-instruct", "deepseek-coder-v2-base",
    "deepseek-coder-v2-instruct", "deepseek-v3", "deepseek-v3-base", "deepseek-v3-0324", "deepseek-v3.1",
    "deepseek-v3.1-terminus", "deepseek-v3.2-exp", "deepseek-r1", "deepseek-r1-zero", "deepseek-r1-0528",
    "deepseek-prover-v2-671b", "deepseek-r1-distill-qwen-1.5b", "deepseek-r1-distill-qwen-7b",
    "deepseek-r1-distill-qwen-14b", "deepseek-r1-distill-qwen-32b", "deepseek-r1-distill-llama-8b",
    "deepseek-r1-distill-llama-70b", "deepseek-vl2", "deepseek-vl2-small", "deepseek-vl2-tiny", "janus-pro-7b",
}
# releases after the reference list: tests/test_new_models.py NEW_RELEASES names each one's source
# the variants the five seed articles describe (shared/seeds/000..004)
DESCRIBED = {
    "deepseek-base", "deepseek-pro", "deepseek-lite", "deepseek-ultra",  # 000
    "deepseek-base-edition", "deepseek-enterprise-edition", "deepseek-lite-edition", "deepseek-cloud-edition",  # 001
    "deepseek-1.3b", "deepseek-6.7b", "deepseek-13b", "deepseek-33b", "deepseek-65b", "deepseek-175b",  # 002
    "deepseek-v2-described", "deepseek-mm1", "deepseek-lite-sdk", "llama-3-70b", "falcon-180b", "mistral-8x22b",  # 003
    "deepseek-v1", "deepseek-vision", "deepseek-x", "deepseek-small", "deepseek-large",  # 004
}


def test_models_json_lists_every_released_and_described_variant(run):
    r = run("models", "-f", "json")
    assert r.code == 0
    data = r.json()
    assert data["schema_version"] == 1
    by_status: dict[str, set[str]] = {}
    for m in data["models"]:
        by_status.setdefault(m["status"], set()).add(m["id"])
    assert RELEASED <= by_status["released"]
    assert DESCRIBED <= by_status["described"]
    assert data["count"] == len(data["models"])


def test_lookup_by_hf_repo_and_alias_case_insensitive(catalog):
    assert catalog.model("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B").id == "deepseek-r1-distill-qwen-32b"
    assert catalog.model("DEEPSEEK-R1-DISTILL-QWEN-32B").id == "deepseek-r1-distill-qwen-32b"
    assert catalog.model("V3").id == "deepseek-v3"


def test_show_lists_sources_and_conflicts(run):
    r = run("show", "deepseek-v2-described", "-f", "json")
    assert r.code == 0
    entry = r.json()["entry"]
    assert entry["conflicts"] and all(c["source"] for c in entry["claims"])


def test_names_pasted_with_unicode_look_alikes_resolve(run):
    """Full-width letters (an IME), a zero-width space or a byte-order mark (text pasted from a web page) and a
    no-break space: 'ＤｅｅｐＳｅｅｋ-R1' was "unknown model" with no suggestion, 'Ｈ100' suggested V100 first."""
    for model, gpu in (("ＤｅｅｐＳｅｅｋ-R1", "H100"), ("deepseek-r1\u200b", "H100"), ("\ufeffdeepseek-r1", "H100"),
                       ("deepseek-r1", "Ｈ１００"), ("deepseek-r1", "H100\u00a0SXM"), ("deepseek-r1", "H100\u200d")):
        r = run("estimate", model, "--gpu", gpu, "--gpus", "8", "-f", "json")
        assert r.code == 0, (model, gpu, r.err)
        assert (r.json()["model"], r.json()["deployment"]["gpu"]) == ("deepseek-r1", "H100-SXM")
    r = run("estimate", "ｄｅｅｐｓｅｅｋ-ｒ９", "--gpu", "H100", "-f", "json")  # still unknown: one line, exit 3
    assert r.code == 3 and r.out == "" and r.err.count("\n") == 1


def test_models_with_a_misspelt_family_is_an_unknown_name(run):
    """`models --family r1-distil` listed no model and exited 0 while `recommend --family r1-distil` exits 3: a typo
    looked like an empty family. It is an unknown name now (exit 3, the family meant suggested)."""
    r = run("models", "--family", "r1-distil", "-f", "json")
    assert r.code == 3 and r.out == "" and "did you mean 'r1-distill'?" in r.err and r.err.count("\n") == 1
    ok = run("models", "--family", "R1-Distill", "-f", "json")  # case-blind, as recommend matches it
    assert ok.code == 0 and ok.json()["count"] > 0
