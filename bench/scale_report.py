#!/usr/bin/env python3
"""bench/scale_report.py -- turn bench/scale.sh's psql output into its tables.

    scale_report.py --sets FILE --runs N --explain FILE [--settings TEXT]
                    [--info TEXT] [--markdown] ROUND_FILE...

ROUND_FILE is the unaligned, tuples-only psql output of one round: per case a
line '@case NAME', '@set NAME=VALUE' lines (the setting as the session took
it, or 'n/a (setting not available)'), then the query's row and psql's
'Time: X ms', or an EXPLAIN's 'Planning Time: X ms'. The --explain file has
'@explain NAME' blocks, each EXPLAIN (ANALYZE, FORMAT JSON) output, and a
'@case tiny_scan' block. FILE (--sets) is bench/scale_data.py's output: each
set's size and expected answer.

Prints the timings (best and median), the EXPLAIN figures and each measure
against its target (met / missed). Exits 1 if any answer differs from the
expected one or a case is missing; timings never pass or fail.
"""
import argparse
import json
import os
import statistics
import sys

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import same_answer  # noqa: E402
from report import table as _table  # noqa: E402


def table(headers, rows, markdown):
    return _table(headers, rows, markdown) if rows else "(none)"

NA = "n/a (setting not available)"

# case -> (description, set whose answer it returns, set whose bytes it reads)
CASES = {
    "lake_full": ("lake: all 30 days", "lake", "lake"),
    "lake_d21_on": ("lake: day = 21, pruning on", "lake_day21", None),
    "lake_d21_off": ("lake: day = 21, pruning off", "lake_day21", None),
    "small_1": ("small objects, 1 in flight", "small", "small"),
    "small_4": ("small objects, 4 in flight", "small", "small"),
    "large_1": ("4 large objects, 1 in flight", "large", "large"),
    "large_4": ("4 large objects, 4 in flight", "large", "large"),
    "par_file_0": ("big object, file, 0 workers", "par", "par"),
    "par_file_1": ("big object, file, 1 worker", "par", "par"),
    "par_file_2": ("big object, file, 2 workers", "par", "par"),
    "par_s3_0": ("big object, S3, 0 workers", "par", "par"),
    "par_s3_1": ("big object, S3, 1 worker", "par", "par"),
    "par_s3_2": ("big object, S3, 2 workers", "par", "par"),
}
PLANS = {
    "plan_tiny": "tiny objects",
    "plan_lake": "lake (120 objects)",
}


def parse(path):
    """{name: {"sets": [...], "ms": float|None, "plan_ms": ..., "lines": [...]}}"""
    blocks, cur = {}, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("@case ") or line.startswith("@explain "):
                cur = {"sets": [], "ms": None, "plan_ms": None, "lines": []}
                blocks[line.split(" ", 1)[1]] = cur
            elif cur is None:
                continue
            elif line.startswith("@set "):
                cur["sets"].append(line[5:])
            elif line.startswith("Time: "):
                cur["ms"] = float(line.split()[1])
            elif line.startswith("Planning Time: "):
                cur["plan_ms"] = float(line.split()[2])
            else:
                cur["lines"].append(line)
    return blocks


def nodes(plan):
    yield plan
    for p in plan.get("Plans", []):
        yield from nodes(p)


def short_settings(sets):
    """the settings worth showing: telem_fdw.* and the worker count"""
    out = []
    for s in sets:
        name, value = s.split("=", 1)
        if name.startswith("telem_fdw."):
            out.append(f"{name[len('telem_fdw.'):]}={value}")
        elif name == "max_parallel_workers_per_gather":
            out.append(f"workers={value}")
    return ", ".join(out) or "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--explain", required=True)
    ap.add_argument("--settings", default="")
    ap.add_argument("--info", default="")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("rounds", nargs="+")
    a = ap.parse_args()
    with open(a.sets) as f:
        sets = json.load(f)

    secs, plan_ms, answers, setting = {}, {}, {}, {}
    for path in a.rounds:
        for name, b in parse(path).items():
            setting[name] = b["sets"]
            if name in PLANS:
                if b["plan_ms"] is not None:
                    plan_ms.setdefault(name, []).append(b["plan_ms"])
                continue
            if b["ms"] is not None:
                secs.setdefault(name, []).append(b["ms"] / 1000)
            answers.setdefault(name, []).append(b["lines"][-1] if b["lines"] else "")
    explain = parse(a.explain)
    tiny = explain.pop("tiny_scan", None)
    if tiny:
        answers["tiny_scan"] = [tiny["lines"][-1] if tiny["lines"] else ""]
    na = lambda name: any(s.endswith("=" + NA) for s in setting.get(name, []))

    mb = lambda n: f"{n / 1e6:.1f} MB"
    print(f"\n## telem_fdw scale bench: best and median of {a.runs} runs")
    if a.info:
        print(a.info)
    if a.settings:
        print("settings after LOAD 'telem_fdw': " + a.settings.replace(";", "; "))
    print(f"sets: lake {sets['lake']['objects']} objects, {mb(sets['lake']['bytes'])}; "
          f"small {sets['small']['objects']} objects, {mb(sets['small']['bytes'])}; "
          f"large {sets['large']['objects']} objects, {mb(sets['large']['bytes'])}; "
          f"big object {mb(sets['par']['bytes'])}; tiny {sets['tiny']['objects']} objects "
          "(JSONL, uncompressed; MB = 10^6 bytes)")
    if a.markdown:
        print()

    # EXPLAIN ANALYZE, once per query
    ex = {}
    for name, b in explain.items():
        try:
            doc = json.loads("\n".join(b["lines"]))[0]
        except (ValueError, IndexError) as e:
            print(f"bench: cannot read EXPLAIN of {name}: {e}", file=sys.stderr)
            continue
        scan = next((n for n in nodes(doc["Plan"]) if n.get("Node Type") == "Foreign Scan"), {})
        gather = next((n for n in nodes(doc["Plan"]) if "Workers Launched" in n
                       or "Workers Planned" in n), {})
        ex[name] = {
            "est": scan.get("Plan Rows"),
            # per loop: all the workers' rows when the scan ran in parallel
            "act": (scan.get("Actual Rows", 0) * scan.get("Actual Loops", 1)) if scan else None,
            "listed": scan.get("Telem Objects Listed"),
            "read": scan.get("Telem Objects Read"),
            "planned": gather.get("Workers Planned", 0),
            "launched": gather.get("Workers Launched", 0),
        }
    best = {c: min(t) for c, t in secs.items()}
    rows = []
    for case, (desc, _, byset) in CASES.items():
        if case not in secs:
            continue
        b, med = best[case], statistics.median(secs[case])
        if byset:
            size = sets[byset]["bytes"] / 1e6
            rate, per = f"{size / b:.0f}", f"{b / size:.4f}"
        else:
            rate = per = "-"
        shown = short_settings(setting.get(case, []))
        if case.startswith("par_") and case in ex:  # was the plan parallel?
            shown += f" ({ex[case]['launched']} launched)"
        rows.append([desc, shown, f"{b:.3f}", f"{med:.3f}", rate, per])
    print()
    print(table(["case", "settings", "best s", "median s", "MB/s", "s/MB"], rows, a.markdown))

    rows = []
    for case, desc in PLANS.items():
        if case in plan_ms:
            t = plan_ms[case]
            rows.append([desc, f"{min(t):.2f}", f"{statistics.median(t):.2f}"])
    print("\nplanning time of EXPLAIN (SUMMARY ON) SELECT count(*)\n")
    print(table(["table", "best ms", "median ms"], rows, a.markdown))

    fmt = lambda v: "-" if v is None else f"{v:,}" if isinstance(v, int) else str(v)
    factor = lambda e: (max(e["est"], e["act"]) / max(1, min(e["est"], e["act"]))
                        if e.get("est") is not None and e.get("act") is not None else None)
    rows = []
    for case, e in ex.items():
        f = factor(e)
        rows.append([CASES.get(case, (case,))[0], short_settings(setting.get(case, [])),
                     fmt(e["est"]), fmt(e["act"]), "-" if f is None else f"{f:.1f}x",
                     fmt(e["listed"]), fmt(e["read"]), f"{e['planned']} / {e['launched']}"])
    print("\nEXPLAIN (ANALYZE, FORMAT JSON), once per query (rows: of the Foreign Scan)\n")
    print(table(["query", "settings", "est. rows", "actual rows", "off by",
                 "objects listed", "objects read", "workers planned / launched"], rows, a.markdown))

    # the measures against their targets
    targets = []

    def target(label, value, shown, goal, ok, cases):
        if value is None:
            targets.append([label, "-", goal, "n/a (case missing)"])
            return
        verdict = "target met" if ok(value) else "target missed"
        if any(na(c) for c in cases):
            verdict += " (setting n/a)"
        targets.append([label, shown, goal, verdict])

    def ratio(num, den):
        return best[num] / best[den] if num in best and den in best else None

    r = ratio("lake_d21_off", "lake_d21_on")
    target("pruning: day = 21, off s / on s", r, f"{r:.1f}x" if r else "", ">= 20x",
           lambda v: v >= 20, ["lake_d21_on", "lake_d21_off"])
    e = ex.get("lake_d21_on")
    if e and e["read"] is not None:
        want = sets["lake_day21"]["objects"]
        target("pruning: objects read for day = 21", e["read"],
               f"{e['read']} of {e['listed']} listed", f"= {want}", lambda v: v == want,
               ["lake_d21_on"])
    for case, label in (("lake_full", "row estimate: whole lake"),
                        ("lake_d21_on", "row estimate: day = 21")):
        f = factor(ex[case]) if case in ex else None
        target(label, f, f"{f:.1f}x off ({fmt(ex[case]['est'])} vs {fmt(ex[case]['act'])})"
               if f else "", "within 4x", lambda v: v <= 4, [])
    for n in (1, 4):
        r = ratio(f"small_{n}", f"large_{n}")  # same bytes: s/MB ratio = s ratio
        if n == 4:
            target("small / large objects, s per MB, 4 in flight", r, f"{r:.2f}" if r else "",
                   "<= 1.25", lambda v: v <= 1.25, ["small_4", "large_4"])
        elif r:
            targets.append(["small / large objects, s per MB, 1 in flight", f"{r:.2f}", "-",
                            "(no target)"])
    r = ratio("small_1", "small_4")
    if r:
        targets.append(["prefetch: small objects, 1 in flight s / 4 in flight s", f"{r:.2f}x",
                        "-", "(no target)" + (" (setting n/a)" if na("small_4") else "")])
    for src in ("file", "s3"):
        for w in (1, 2):
            case = f"par_{src}_{w}"
            r = ratio(f"par_{src}_0", case)
            launched = ex.get(case, {}).get("launched")
            shown = f"{r:.2f}x ({'?' if launched is None else launched} launched)" if r else ""
            serial = " (plan not parallel)" if launched == 0 else ""
            if w == 2:
                target(f"parallel {src}: 0 workers s / 2 workers s", r, shown, ">= 1.8x",
                       lambda v: v >= 1.8, [])
                if r:
                    targets[-1][-1] += serial
            elif r:
                targets.append([f"parallel {src}: 0 workers s / 1 worker s", shown, "-",
                                "(no target)" + serial])
    for case, desc in PLANS.items():
        t = min(plan_ms[case]) if case in plan_ms else None
        target(f"planning time, {desc}, best", t, f"{t:.2f} ms" if t is not None else "",
               "< 50 ms", lambda v: v < 50, [])
    print("\nmeasures against their targets (timings report only: nothing fails on them)\n")
    print(table(["measure", "value", "target", "verdict"], targets, a.markdown))
    if tiny and tiny["ms"] is not None:
        print(f"\none scan of the {sets['tiny']['objects']} tiny objects: {tiny['ms'] / 1000:.3f} s")

    # the answer check
    bad = []
    expected = {c: sets[s]["answer"] for c, (_, s, _) in CASES.items()}
    expected["tiny_scan"] = sets["tiny"]["answer"]
    for case, want in expected.items():
        for got in answers.get(case, []):
            if not same_answer(got, want):
                bad.append(f"{case}: {got!r}, want {want!r}")
    missing = [c for c in expected if c not in answers]
    missing += [c for c in CASES if c not in secs and c not in missing]
    missing += [c for c in PLANS if c not in plan_ms]
    missing += [f"EXPLAIN {c}" for c in ("lake_full", "lake_d21_on", "lake_d21_off") if c not in ex]
    print()
    if missing:
        print("missing cases: " + ", ".join(missing))
    if bad:
        print("ANSWER MISMATCH:\n  " + "\n  ".join(bad))
        sys.exit(1)
    if missing:
        sys.exit(1)
    n = sum(len(v) for v in answers.values())
    print(f"answers: all {n} query results match the answers computed from the data "
          "(the parallel cases' answers are equal for 0, 1 and 2 workers)")


if __name__ == "__main__":
    main()
