"""vLLM runs NVIDIA's ModelOpt NVFP4 checkpoints on Blackwell (catalog/engines/engines.yaml, vllm: the
format, its support limit and its own NVFP4 MoE kernel floors; docs/method.md "Decode step")."""

from __future__ import annotations


import pytest

from dsadvisor.physics.estimate import Deployment, estimate, pin_layout



def test_vllm_serves_nvidias_fp4_checkpoint_on_blackwell(run):
    """vLLM reads quant_algo NVFP4 from the checkpoint's hf_quant_config.json (modelopt.py
    ModelOptNvFp4Config.override_quantization_method): its DeepSeek recipe and InferenceX's B200 FP4 script
    pass no --quantization. Before, the catalog said vLLM did not run nvfp4 and the plan was refused."""
    r = run("plan", "deepseek-r1", "--gpu", "B200", "--gpus", "8", "--quant", "nvfp4", "--engine", "vllm",
            "-f", "json")
    assert r.code == 0, r.err
    command = r.json()["commands"][0]
    assert command.startswith("vllm serve nvidia/DeepSeek-R1-FP4 ") and "--quantization" not in command


def test_vllm_nvfp4_on_rocm_is_bad_input_with_the_reason(run):
    """An MI355X has fp4 units, but vLLM's ROCm build does not list modelopt_fp4: exit 2, one line."""
    r = run("plan", "deepseek-r1", "--gpu", "MI355X", "--gpus", "8", "--quant", "nvfp4", "--engine", "vllm")
    assert r.code == 2 and r.out == ""
    line, = r.err.strip().splitlines()
    assert "no engine runs nvfp4 weights on MI355X" in line and "ROCm build does not list modelopt_fp4" in line


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_nvfp4_without_a_published_checkpoint_is_a_placeholder(run, engine):
    """No NVFP4 checkpoint of the 70B distill is catalogued: the plan names one the user makes with ModelOpt.
    Before, it served the 16-bit repository (SGLang with --quantization modelopt_fp4, which needs the
    checkpoint's hf_quant_config.json; vLLM would have served bf16)."""
    r = run("plan", "deepseek-r1-distill-llama-70b", "--gpu", "B200", "--quant", "nvfp4", "--engine", engine,
            "-f", "json")
    assert r.code == 0, r.err
    plan = r.json()
    assert "'<NVFP4-checkpoint-of deepseek-ai/DeepSeek-R1-Distill-Llama-70B>'" in plan["commands"][0]
    assert any("hf_ptq.py --qformat nvfp4" in n for n in plan["notes"])


def test_vllm_fp4_experts_use_vllms_own_moe_kernel(catalog):
    """NVIDIA's tables time vLLM 0.24.0's NVFP4 MoE (FlashInfer TRT-LLM kernel, B200) at 14 us split by TP and
    36 us with expert parallel, not SGLang's 9 / 31 us: 58 MoE layers x (36 - 14) us apart."""
    d = Deployment.of(catalog, model=catalog.models["deepseek-r1"], gpu=catalog.gpus["B200"],
                      quant=catalog.quantizations["nvfp4"], engine=catalog.engines["vllm"], gpus=8, batch=4,
                      context=2048)
    ep = estimate(pin_layout(d, tp=8, ep=True))
    tp = estimate(pin_layout(d, tp=8, ep=False))
    assert ep.decode_step_s - tp.decode_step_s == pytest.approx(58 * (36e-6 - 14e-6), rel=1e-9)


def test_vllm_nvfp4_served_runs_are_compared(catalog, serving_calibration):
    """InferenceX's 60 vLLM NVFP4 runs of Llama-3.1-70B on B200 (45 fit, 15 held-out by the existing split)
    were skipped as "vLLM does not run nvfp4"; nothing was fitted on them. TPOT: 100 % of the fit part and
    80 % of the held-out part within 20 %; the floors sit just under, so a regression fails."""
    rows, skipped = serving_calibration.compare_rows(catalog, keep=lambda r: r["backend"] == "vllm")
    assert not [reason for reason in skipped if "nvfp4" in reason]
    share = {}
    for split in ("fit", "holdout"):
        part = [r for r in rows if r["split"] == split and "_fp4_" in r["id"]]
        share[split] = (len(part), sum(abs(r["tpot_ratio"] - 1) <= 0.20 for r in part) / len(part))
    assert share["fit"][0] == 45 and share["fit"][1] >= 0.95
    assert share["holdout"][0] == 15 and share["holdout"][1] >= 0.75
