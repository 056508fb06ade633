"""Sum ncu per-kernel times (run-kernels.sh: gpu__time_duration.sum, --csv) by kernel name, for one prompt pass
and the last decode token. usage: python ncu_sum.py NCU.csv ... (benchmarks/data/llamacpp-h200-may2024/raw/ncu-summary.txt)"""
import csv, sys, re, collections
def load(path):
    lines = open(path).read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith('"ID"'))
    rows = list(csv.DictReader(lines[start:]))
    return [(r["Kernel Name"], r["Grid Size"], r["Block Size"], float(r["Metric Value"].replace(",", ""))) for r in rows]

def short(name):
    n = re.sub(r"\(.*", "", name)
    n = re.sub(r"^void ", "", n)
    return n[:70]

def passes(ks):
    # split at rms_norm kernels: a pass has 65 (32 layers x 2 + final)
    out, cur, norms = [], [], 0
    for k in ks:
        if k[0].startswith("void rms_norm") and norms == 65:
            out.append(cur); cur, norms = [], 0
        if k[0].startswith("void rms_norm"):
            norms += 1
        cur.append(k)
    out.append(cur)
    return out

for path in sys.argv[1:]:
    ks = load(path)
    ps = passes(ks)
    print(path, "kernels", len(ks), "passes", [len(p) for p in ps], "ms", [round(sum(k[3] for k in p) / 1e6, 2) for p in ps])
    for label, p in (("pp512 pass 2", ps[1]), ("tg token (last)", ps[-1])):
        agg = collections.defaultdict(lambda: [0, 0.0])
        for k in p:
            a = agg[short(k[0])]; a[0] += 1; a[1] += k[3]
        tot = sum(v[1] for v in agg.values())
        print(f"  {label}: {tot/1e6:.2f} ms in {len(p)} kernels")
        for n, (c, t) in sorted(agg.items(), key=lambda x: -x[1][1])[:14]:
            print(f"    {t/1e6:7.3f} ms {100*t/tot:5.1f}% x{c:4d}  {n}")
