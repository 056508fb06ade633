"""Shared fixtures: the bundled catalog (loaded once), a CLI runner, an isolated cache."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"

# One valid entry of a user's `models:` list: it borrows a released shape, so it estimates like the 7B distill.
GOOD_MODEL = """\
  - id: acme-7b
    name: Acme-7B
    status: released
    family: acme
    source: my model card
    architecture_from: deepseek-r1-distill-qwen-7b
"""


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A private catalog cache directory (DSADVISOR_CACHE_DIR) for one test."""
    d = tmp_path / "cache"
    monkeypatch.setenv("DSADVISOR_CACHE_DIR", str(d))
    return d


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Tests never read or write the user's ~/.cache; one cache dir for the whole run."""
    monkeypatch.setenv("DSADVISOR_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.delenv("DSADVISOR_CATALOG", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


def load_script(relative: str):
    """A script of the project (benchmarks/, docs/) as a module, so a test can call its functions."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def calibration_script():
    """benchmarks/calibration.py, loaded once: the published and H200 sets and their comparisons."""
    return load_script("benchmarks/calibration.py")


@pytest.fixture(scope="session")
def serving_calibration():
    """benchmarks/serving_calibration.py, loaded once: it reads NVIDIA's served runs as InferenceX ran them."""
    return load_script("benchmarks/serving_calibration.py")


@pytest.fixture(scope="session")
def catalog():
    from dsadvisor.catalog.store import load_catalog

    return load_catalog(use_env=False)


class Result:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def run(capsys):
    """Run the CLI in-process: returns exit code, stdout, stderr."""
    from dsadvisor.cli import main

    def _run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return _run


def run_subprocess(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dsadvisor", *args], capture_output=True, text=True,
                          env=env, timeout=120)
