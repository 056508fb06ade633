"""The bundled catalog is found from a source checkout (editable install) and from an installed wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_source_checkout_finds_top_level_catalog():
    from dsadvisor.catalog.loading import bundled_catalog_dir

    assert bundled_catalog_dir() == ROOT / "catalog"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(ROOT)], check=True, capture_output=True, timeout=300)
    (found,) = out.glob("dsadvisor-*.whl")
    return found


def test_wheel_carries_every_catalog_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "catalog").rglob("*.yaml"):
        assert f"dsadvisor/catalog/bundled/{path.relative_to(ROOT / 'catalog').as_posix()}" in names


def test_wheel_ships_the_typed_package_and_no_benchmarks(wheel):
    """The benchmarks (calibration.py, measurement scripts, data) stay in the source tree; py.typed ships."""
    names = zipfile.ZipFile(wheel).namelist()
    assert "dsadvisor/py.typed" in names
    assert not [n for n in names if n.startswith("benchmarks/") or "/benchmarks/" in n]
    assert not [n for n in names if n.endswith(".py") and not n.startswith("dsadvisor/")]


def test_files_the_package_points_at_exist():
    """A module's pointer to benchmarks/... or docs/... (calibration.py: benchmarks/data/README.md) leads
    somewhere; another project's (llama.cpp docs/docker.md) is left out."""
    import re

    named = {(p.relative_to(ROOT).as_posix(), ref)
             for p in (ROOT / "src" / "dsadvisor").rglob("*.py")
             for ref in re.findall(r"(?<!llama\.cpp )\b((?:benchmarks|docs)/[\w./-]*\w)", p.read_text())}
    assert named
    missing = [(where, ref) for where, ref in sorted(named) if not (ROOT / ref).exists()]
    assert not missing


def test_wheel_carries_every_json_schema(wheel):
    from dsadvisor.output.schema_files import COMMANDS

    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [c for c in COMMANDS if f"dsadvisor/output/schemas/{c}.schema.json" not in names]
    assert not missing


def test_installed_wheel_loads_its_own_catalog(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # a wheel installs by unpacking into site-packages
    code = ("from dsadvisor.catalog.loading import bundled_catalog_dir; from dsadvisor.catalog.store import load_catalog; "
            "c = load_catalog(use_env=False); print(bundled_catalog_dir()); print(len(c.models))")
    env = {**os.environ, "PYTHONPATH": str(site), "DSADVISOR_NO_CACHE": "1"}
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    where, count = res.stdout.split()
    assert Path(where) == site / "dsadvisor" / "catalog" / "bundled"
    assert int(count) >= 70


def test_installed_wheel_prints_its_own_json_schema(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "DSADVISOR_NO_CACHE": "1"}
    res = subprocess.run([sys.executable, "-m", "dsadvisor", "schema", "plan"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["title"] == "dsadvisor plan --format json"


def test_ci_floor_constraints_match_declared_floors():
    """.ci/run's second job installs .ci/constraints-min.txt; each pin must be the floor pyproject declares."""
    import re
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = meta["dependencies"] + meta["optional-dependencies"]["test"]
    floors = {}
    for spec in declared:
        m = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9.]*)", spec)
        assert m, f"{spec!r} declares no floor"
        floors[m.group(1).lower()] = m.group(2)
    pins = {}
    for line in (ROOT / ".ci" / "constraints-min.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    assert set(pins) == set(floors)
    for name, floor in floors.items():
        pinned = tuple(int(p) for p in pins[name].split("."))
        wanted = tuple(int(p) for p in floor.split("."))
        assert pinned[: len(wanted)] == wanted and all(p == 0 for p in pinned[len(wanted):]), (name, pins[name], floor)
