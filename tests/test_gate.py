"""Safe to gate (issue 9): a CI gate never passes on a usage mistake, output never breaks its reader.

* a blank text or path option is a usage error (exit 2), never "no constraint";
* --license is a whole license name (any case), an unknown one gets suggestions (exit 3);
* a misspelt --benchmark is an unknown name (exit 3) whatever --allow-unknown says;
* --allow-unknown lets an unknown score *or speed* pass, as its help says (unknown stays exit 6 without it);
* CSV cells that a spreadsheet would run are defused; terminal controls never reach a table or markdown;
* every number a user gives is bounded (dsadvisor.limits), and JSON never carries inf or NaN;
* a closed, full or abandoned stdout costs no traceback and keeps the command's exit code;
* a huge name is clipped in tables and in the "did you mean" line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from .conftest import GOOD_MODEL

MODEL = "deepseek-r1-distill-qwen-7b"
CHECK = ("check", MODEL, "--gpu", "H100")


# ------------------------------------------------------------------ a gate never passes on a mistake

@pytest.mark.parametrize("argv", [
    (*CHECK, "--license", ""),
    (*CHECK, "--license", "   "),
    (*CHECK, "--license", "MIT", "--license", ""),
    (*CHECK, "--benchmark", "", "--task", "math", "--min-accuracy", "1"),
    (*CHECK, "--engine", ""),
    (*CHECK, "--quant", "\t"),
    (*CHECK, "--catalog", ""),  # Path('') is '.': it read the working folder as a catalog
    ("check", "--config", "", "--gpu", "H100"),  # ... and ./config.json
    ("recommend", "--vram", "24", "--family", ""),
    ("models", "--status", ""),
    ("show", ""),
])
def test_a_blank_value_is_a_usage_error(run, argv):
    """`--license "$UNSET"` exited 0: the empty string is a substring of every license."""
    r = run(*argv)
    assert (r.code, r.out) == (2, ""), (r.code, r.err)
    [line] = r.err.splitlines()
    assert line.startswith("dsadvisor: error: Invalid value for ") and "is blank" in line


def test_license_is_a_whole_name_in_any_case(run):
    assert run(*CHECK, "--license", "MIT").code == 0
    assert run(*CHECK, "--license", "mit").code == 0
    assert run(*CHECK, "--license", "MIT", "--license", "DeepSeek Model License").code == 0
    other = run(*CHECK, "--license", "deepseek model license")
    assert other.code == 1 and "DSA010 license MIT is not one of deepseek model license" in other.err
    for part, hint in (("i", "'MIT' or 'DeepSeek Model License'"), ("mitt", "'MIT'"), ("DeepSeek", "'DeepSeek")):
        r = run(*CHECK, "--license", part)  # a substring of a license name matched it before
        assert (r.code, r.out) == (3, ""), (part, r.code, r.err)
        assert r.err.startswith(f"dsadvisor: error: unknown license '{part}'; did you mean {hint}"), r.err


def test_recommend_filters_on_whole_license_names(run):
    d = run("recommend", "--vram", "80", "--license", "mit", "--top", "100", "-f", "json").json()
    assert d["ranked"] and {v["model"] for v in d["ranked"]} <= {
        m["id"] for m in run("models", "-f", "json").json()["models"] if m["license"] == "MIT"}
    assert run("recommend", "--vram", "80", "--license", "M").code == 3


@pytest.mark.parametrize("allow", [(), ("--allow-unknown",)])
def test_a_misspelt_benchmark_is_an_unknown_name(run, allow):
    r = run(*CHECK, "--benchmark", "gqpa", "--min-accuracy", "95", *allow)
    assert (r.code, r.out) == (3, "")
    assert r.err == "dsadvisor: error: unknown benchmark 'gqpa'; did you mean 'gpqa'?\n"
    assert run("recommend", "--vram", "24", "--benchmark", "mmlu-pr0", "--min-accuracy", "5", *allow).code == 3
    assert run(*CHECK, "--benchmark", "GPQA", "--min-accuracy", "1").code == 0  # any case


def test_allow_unknown_does_what_its_help_says_for_speeds(run, tmp_path):
    """check's help said unknown speeds pass with --allow-unknown; they exited 6."""
    from dsadvisor.cli.advice_commands import AllowUnknown

    help_text = AllowUnknown.__metadata__[0].help
    assert help_text == "Let an unknown score or speed pass."
    unrated = tmp_path / "npu.yaml"  # every bundled device has a FLOP rate; a user's may not
    unrated.write_text("gpus:\n  - {id: My-NPU, name: My NPU, vendor: other, family: My NPU, category: edge,\n"
                       "     memory_gb: 64, bandwidth_gbs: 200, dtypes: [fp16], source: a datasheet}\n", encoding="utf-8")
    args = ("check", MODEL, "--catalog", str(unrated), "--gpu", "My-NPU", "--max-ttft", "5")
    strict = run(*args)
    assert strict.code == 6 and "DSA005 time to first token unknown" in strict.err
    allowed = run(*args, "--allow-unknown")
    assert allowed.code == 0, allowed.err
    [ttft] = [r for r in allowed.json()["rules"] if r["id"] == "DSA005"]
    assert ttft["status"] == "pass" and ttft["message"].endswith("(allowed by --allow-unknown)")
    from .conftest import ROOT

    rules_md = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert "an unknown speed (DSA005-DSA008" in rules_md and "does **not** affect" not in rules_md


# ------------------------------------------------------------------ output that cannot turn on its reader

HOSTILE_NAME = "Acme \x1b[2J\x1b]0;pwned\x07 \r\u202eevil\u202c \x9b31m | x"


def _catalog(tmp_path, **fields) -> str:
    """A user catalog of GOOD_MODEL with some fields replaced (JSON strings are YAML strings)."""
    lines = [line for line in GOOD_MODEL.splitlines() if line.split(":")[0].strip(" -") not in fields]
    lines[0] = "  - " + lines[0].lstrip(" -") if not lines[0].startswith("  - ") else lines[0]
    lines += [f"    {key}: {json.dumps(value)}" for key, value in fields.items()]
    path = tmp_path / "hostile.yaml"
    path.write_text("models:\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


CONTROLS = ["\x1b", "\x07", "\r", "\u202e", "\u202c", "\x9b"]


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_terminal_controls_never_reach_a_table_or_markdown(run, tmp_path, fmt):
    cat = _catalog(tmp_path, name=HOSTILE_NAME, family="acme\x1b[31m")
    for argv in (("show", "acme-7b"), ("models", "--family", "acme\x1b[31m")):
        r = run(*argv, "--catalog", cat, "-f", fmt)
        assert r.code == 0, r.err
        assert not [c for c in CONTROLS if c in r.out], (argv, r.out[:500])
        assert "\\x1b[2J" in r.out or "\\x1b[31m" in r.out  # shown, escaped


def test_markdown_escapes_pipes_in_titles_and_cells(run, tmp_path):
    r = run("show", "acme-7b", "--catalog", _catalog(tmp_path, name="a | b"), "-f", "markdown")
    title = r.out.splitlines()[0]
    assert title.startswith("### a \\| b"), title


def test_csv_cells_that_start_a_formula_are_defused(run, tmp_path):
    cat = _catalog(tmp_path, family="=HYPERLINK(\"http://x\",\"y\")")
    text = run("models", "--catalog", cat, "--family", "=HYPERLINK(\"http://x\",\"y\")", "-f", "csv").out
    [header, row] = list(csv.reader(io.StringIO(text)))
    assert row[header.index("family")] == "'=HYPERLINK(\"http://x\",\"y\")"
    from dsadvisor.output.render import csv_cell

    for cell in ("=1+2", "+1+2", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "-cmd|' /C calc'!A0"):
        assert csv_cell(cell) == "'" + cell
    for cell in ("-", "-5", "+3.5", "1e-3", "abc", "", "a=b"):
        assert csv_cell(cell) == cell


def test_csv_cells_with_a_carriage_return_are_quoted_and_rows_end_in_a_newline(run):
    """A file name holding a lone CR, echoed in catalog validate's CSV, was written bare and csv.reader stopped
    at it (hypothesis drew it in tests/test_fuzz.py once in a while)."""
    from dsadvisor.output.render import CsvRenderer, Document, Table

    r = run("catalog", "validate", "0\r", "-f", "csv")
    assert r.code == 4
    assert list(csv.reader(io.StringIO(r.out))) == [["problem"], ["0\r: no such file or directory"]]
    doc = Document(data={}, tables=(Table(title="", columns=("a", "b"), rows=(("x\ry", "1"), ("p\r\nq", ""))),))
    text = CsvRenderer().render(doc)
    assert "\r\n" not in text.replace('"p\r\nq"', "") and text.endswith(",\n")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["a", "b"], ["x\ry", "1"], ["p\r\nq", ""]]


# ------------------------------------------------------------------ numbers: bounded in, finite out

def test_a_huge_number_is_refused_before_it_becomes_inf(run):
    r = run("recommend", "--gpu", "H100", "--max-params", "1e300", "-f", "json")
    assert (r.code, r.out) == (2, "")
    assert r.err == "dsadvisor: error: --max-params must be greater than 0 and at most 1e+06, not 1e+300\n"


def test_every_numeric_flag_has_a_bound():
    """Every float or int option of every command is in dsadvisor.limits.BOUNDS."""
    import typer

    from dsadvisor.cli import app
    from dsadvisor.limits import BOUNDS, problem

    command = typer.main.get_command(app)
    numeric, todo = set(), [command]
    while todo:
        cmd = todo.pop()
        todo += list(getattr(cmd, "commands", {}).values())
        numeric |= {p.opts[0] for p in cmd.params if type(p.type).__name__ in ("IntParamType", "FloatParamType")}
    assert numeric and numeric <= set(BOUNDS), numeric - set(BOUNDS)
    for flag in numeric:
        assert "must be" in problem(flag, 1e300) and "finite" in problem(flag, float("inf"))


def test_the_library_holds_constraints_to_the_same_bounds():
    from dsadvisor.advice.rules import Constraints
    from dsadvisor.errors import InputError

    for field, value in (("max_params", 1e309), ("max_ttft_s", float("nan")), ("min_tokens_per_s", 1e300),
                         ("batch", 0), ("min_accuracy", 101.0)):
        with pytest.raises(InputError):
            Constraints(**{field: value})


def test_json_and_yaml_never_carry_a_non_finite_number():
    from dsadvisor.errors import OutputError
    from dsadvisor.output.render import Document, OutputFormat

    doc = Document(data={"schema_version": 1, "ranked": [{"score": {"total": float("inf")}}]})
    for fmt in (OutputFormat.json, OutputFormat.yaml):
        with pytest.raises(OutputError, match=r"ranked\[0\]\.score\.total = inf"):
            fmt.renderer().render(doc)


# ------------------------------------------------------------------ stdout that takes nothing

def _dsadvisor(*argv: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "dsadvisor", *argv], stderr=subprocess.PIPE, text=True,
                          timeout=120, env=env, **kw)


FAILING = (*CHECK, "--min-tokens-per-s", "100000")


@pytest.mark.parametrize("argv,code", [(CHECK, 0), (FAILING, 1), (("models",), 0)], ids=["pass", "fail", "models"])
def test_a_reader_that_closes_the_pipe_early_keeps_the_exit_code(argv, code):
    """`dsadvisor check ... | head -c1`: a passing check exited 1 with no message (typer's EPIPE exit)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        p = _dsadvisor(*argv, stdout=write)
    finally:
        os.close(write)
    assert p.returncode == code, p.stderr
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr
    lines = p.stderr.splitlines()
    assert lines[-1] == (f"dsadvisor: the reader of stdout closed it before all the output was written "
                         f"(exit code {code} is the command's own)")
    assert len(lines) == (2 if code else 1)


@pytest.mark.parametrize("argv", [("--help",), ("check", "--help"), ("--version",)])
def test_help_and_version_to_a_closed_pipe_exit_0_with_one_line(argv):
    """typer's own EPIPE handler exited 1 with nothing said."""
    read, write = os.pipe()
    os.close(read)
    try:
        p = _dsadvisor(*argv, stdout=write)
    finally:
        os.close(write)
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == ["dsadvisor: the reader of stdout closed it before all the output was written "
                                     "(exit code 0 is the command's own)"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("argv,code", [(CHECK, 0), (FAILING, 1)], ids=["pass", "fail"])
def test_a_full_stdout_keeps_the_exit_code(argv, code):
    with open("/dev/full", "w") as full:
        p = _dsadvisor(*argv, stdout=full)
    assert p.returncode == code and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.splitlines()[-1] == ("dsadvisor: error: could not write the output: No space left on device "
                                         f"(exit code {code} is the command's own)")


@pytest.mark.parametrize("argv,code", [(CHECK, 0), (FAILING, 1)], ids=["pass", "fail"])
def test_a_closed_stdout_keeps_the_exit_code(argv, code):
    """`dsadvisor check ... >&-`: Python starts with no sys.stdout at all (it was an AttributeError)."""
    p = subprocess.run(["bash", "-c", 'exec "$@" >&-', "-", sys.executable, "-m", "dsadvisor", *argv],
                       stderr=subprocess.PIPE, text=True, timeout=120)
    assert p.returncode == code and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.splitlines()[-1] == ("dsadvisor: error: stdout is closed: the output was not written "
                                         f"(exit code {code} is the command's own)")


# ------------------------------------------------------------------ huge names

def test_a_one_megabyte_name_does_not_make_a_huge_table(run, tmp_path, record_property):
    name = "Acme-" + "x" * 1_000_000
    cat = _catalog(tmp_path, name=name, family="a" * 1_000_000)
    for argv in (("models",), ("show", "acme-7b")):
        r = run(*argv, "--catalog", cat, "-f", "table")
        assert r.code == 0, r.err[:500]
        record_property(f"{argv[0]}_table_bytes", len(r.out.encode()))
        assert len(r.out.encode()) < 200_000, len(r.out)
        assert "(1,000,000 characters)" in r.out


def test_a_long_name_is_clipped_in_the_did_you_mean_line(run, tmp_path):
    long = "acme-" + "y" * 200_000
    cat = _catalog(tmp_path, name=long)
    r = run("show", long + "z", "--catalog", cat)  # a 200 KB typo of a 200 KB name
    assert r.code == 3
    [line] = r.err.splitlines()
    assert len(line) < 400, len(line)
    assert "unknown model 'acme-yyy" in line and "(200,006 characters); did you mean 'acme-yyy" in line
    assert line.endswith("(200,005 characters)?")


def test_estimate_and_plan_take_output_tokens_as_recommend_and_check_do(run):
    """`estimate ... --output-tokens 1000` and `plan ... --output-tokens 1000` stopped with "No such option:
    --output-tokens" while recommend, check and layouts took it. Now the context is the prompt plus the output in
    all of them (2048 + 1000 here), and giving --context too is refused as check refuses it."""
    common = ("deepseek-r1-distill-qwen-7b", "--gpu", "L40S", "--concurrency", "8", "-f", "json")
    by_output = run("estimate", *common, "--output-tokens", "1000")
    by_context = run("estimate", *common, "--context", "3048", "--prompt-tokens", "2048")
    assert by_output.code == 0 and by_output.json() == by_context.json(), by_output.err
    assert by_output.json()["serving"]["output_tokens"] == 1000
    plan = run("plan", *common, "--output-tokens", "1000", "--prompt-tokens", "500")
    assert plan.code == 0 and "--max-model-len 1500 " in plan.json()["commands"][0], plan.err
    for cmd in ("estimate", "plan", "check"):
        both = run(cmd, *common, "--output-tokens", "1000", "--context", "9000")
        assert both.code == 2 and both.out == "" and "give --context or --output-tokens, not both" in both.err


def test_numbers_typed_with_their_unit(run):
    """`--vram 80GB` (as nvidia-smi and spec sheets write it) stopped with "'80GB' is not a valid float" and no way
    on; so did `--max-ttft 500ms`. Now a unit the option can read is converted into the option's own (GB, seconds,
    ms) and any other is refused naming the units it takes."""
    def constraints(*args):
        r = run("recommend", "--gpu", "A100", *args, "--top", "1", "-f", "json")
        assert r.code == 0, r.err
        return r.json()["hardware"], r.json()["constraints"]

    plain = constraints("--vram", "80", "--max-ttft", "0.5", "--max-token-latency", "50")
    for args in (("--vram", "80GB", "--max-ttft", "500ms", "--max-token-latency", "50ms"),
                 ("--vram", "80 gb", "--max-ttft", "0.5s", "--max-token-latency", "0.05s"),
                 ("--vram", "0.08TB", "--max-ttft", "0.5", "--max-token-latency", "50")):
        assert constraints(*args) == plain, args
    for args, said in ((("--vram", "80GiB"), "give GB (a number, or with g, gb, t, tb)"),
                       (("--vram", "40", "--max-ttft", "2h"), "give seconds (a number, or with ms, s, sec)")):
        r = run("recommend", "--gpu", "A100", *args, "-f", "json")
        assert r.code == 2 and r.out == "" and r.err.count("\n") == 1 and said in r.err, r.err


def test_a_bad_concurrency_is_named_as_typed_in_the_docs(run):
    """`recommend --concurrency 0` answered "--batch must be between 1 and 1e+06": --concurrency is the option's
    name (README, --help; --batch its older alias), so the error named an option the user had not typed."""
    for flag in ("--concurrency", "--batch"):
        r = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "H100", flag, "0", "-f", "json")
        assert r.code == 2 and r.err == "dsadvisor: error: --concurrency must be between 1 and 1e+06, not 0\n"


def test_a_prompt_longer_than_the_default_context_gets_room_for_it(run):
    """`recommend --gpu L40S --prompt-tokens 9000` answered "0 models fit" (DSA001 "--prompt-tokens 9000 exceeds
    --context 8192" for all 66), and `check`/`plan` failed the same way (exit 1), against a default context of 8192
    the user never typed, while `layouts` sized the same prompt at 9000 + 512. Now an unset --context holds a longer
    prompt and a 512-token answer, within the model's own context; past that the error names the model's."""
    est = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "L40S", "--prompt-tokens", "9000", "-f", "json")
    assert est.code == 0 and est.json()["deployment"]["context"] == 9000 + 512, est.err
    plan = run("plan", "deepseek-r1-distill-qwen-7b", "--gpu", "L40S", "--prompt-tokens", "9000", "-f", "json")
    assert plan.code == 0 and "--max-model-len 9512 " in plan.json()["commands"][0], plan.err
    ranked = run("recommend", "--gpu", "L40S", "--prompt-tokens", "9000", "-f", "json")
    assert ranked.code == 0 and ranked.json()["ranked"], ranked.out[:500]
    short = run("check", "deepseek-vl2-small", "--gpu", "L40S", "--prompt-tokens", "9000", "-f", "json")
    assert short.code == 1 and "exceeds the model's context, 4096 tokens" in short.err, short.err
    # a prompt within the default keeps it, and a --context the user gives is still held to
    same = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "L40S", "--prompt-tokens", "4000", "-f", "json")
    assert same.json()["deployment"]["context"] == 8192
    typed = run("estimate", "deepseek-r1-distill-qwen-7b", "--gpu", "L40S", "--prompt-tokens", "9000",
                "--context", "8192", "-f", "json")
    assert typed.code == 2 and "--prompt-tokens 9000 exceeds --context 8192" in typed.err
