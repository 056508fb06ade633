"""Print the estimator's error against every GPU measurement in benchmarks/data/.

    python benchmarks/calibration.py            # calibration set (shared/calibration) + held-out set
Targets (tests/test_calibration.py): memory within 5%, decode step within 15%,
prefill of prompts >= 2K within 25%.
"""

from pathlib import Path

from dsadvisor.physics.calibration import compare_decode, compare_transformers, read_rows
from dsadvisor.catalog.store import load_catalog

DATA = Path(__file__).resolve().parent / "data"  # the calibration set the constants were fitted to
HELD_OUT = Path(__file__).resolve().parent / "gpu" / "results"  # measured here, not fitted to


def main() -> None:
    catalog = load_catalog()
    for path in sorted(DATA.glob("*.jsonl")) + sorted(HELD_OUT.glob("*.jsonl")):
        rows = read_rows(path)
        comps = compare_transformers(catalog, rows) + compare_decode(catalog, rows)
        if not comps:
            continue
        print(f"\n{path.name}")
        print(f"{'quantity':12} {'model':22} {'batch':>5} {'tokens':>6} {'measured':>12} {'estimated':>12} {'error':>7}")
        for c in comps:
            print(f"{c.quantity:12} {c.model:22} {c.batch:5d} {c.tokens:6d} {c.measured:12.4g} "
                  f"{c.estimated:12.4g} {c.error:+7.1%}")
        for q in ("memory", "decode_step", "prefill"):
            errs = [abs(c.error) for c in comps if c.quantity == q and (q != "prefill" or c.tokens >= 2048)]
            if errs:
                print(f"  {q}: max |error| {max(errs):.1%}, mean {sum(errs) / len(errs):.1%} over {len(errs)} rows")


if __name__ == "__main__":
    main()
