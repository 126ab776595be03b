#!/usr/bin/env python3
"""bench/scale_data.py -- write bench/scale.sh's object sets from one block.

    scale_data.py --block FILE --out DIR --lake-rows N --small N --par-mb N
                  --tiny N [--tiny-chunks K]

FILE is JSONL from test/gen_telemetry.py (generated once: the generator is
slow). Rows are taken from it one after another, wrapping around, so the
objects of a set hold different rows as long as the block lasts. Writes, under
DIR:

  lake/day=D/part-P.jsonl   30 days x 4 parts, --lake-rows rows in all
  small/obj-NNNN.jsonl      --small objects of at most 256 KiB (whole lines)
  large/part-J.jsonl        4 objects: the small objects' bytes, concatenated
                            in 4 groups (the same rows and bytes as small/)
  par/big.jsonl             the block repeated to about --par-mb MB (10^6 B)
  tiny/cK/obj-NNNNN.jsonl   --tiny objects of one row each, in --tiny-chunks
                            directories (uploaded side by side)

and prints, as JSON, each set's object count, bytes and expected answer of
the 2-field aggregate, "count|sum|max" (count(*), sum(speed_kmh) rounded to
2 decimals, max(engine_rpm)), computed exactly from the text, so that every
query's answer can be checked against it.
"""
import argparse
import json
import os

DAYS, PARTS = 30, 4
SMALL_BYTES = 256 << 10


class Agg:
    """count, sum of speed_kmh in hundredths (exact), max engine_rpm"""

    def __init__(self):
        self.n, self.cents, self.rpm = 0, 0, None

    def add(self, cents, rpm, times=1):
        self.n += times
        self.cents += cents * times
        self.rpm = rpm if self.rpm is None else max(self.rpm, rpm)

    def merge(self, other, times=1):
        """add another Agg's rows, times over"""
        if other.n:
            self.n += other.n * times
            self.cents += other.cents * times
            self.rpm = other.rpm if self.rpm is None else max(self.rpm, other.rpm)

    def answer(self):
        whole, frac = divmod(abs(self.cents), 100)
        sign = "-" if self.cents < 0 else ""
        return f"{self.n}|{sign}{whole}.{frac:02d}|{self.rpm if self.rpm is not None else ''}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--block", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--lake-rows", type=int, required=True)
    ap.add_argument("--small", type=int, required=True)
    ap.add_argument("--par-mb", type=int, required=True)
    ap.add_argument("--tiny", type=int, required=True)
    ap.add_argument("--tiny-chunks", type=int, default=4)
    a = ap.parse_args()

    with open(a.block, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    # per line: speed in hundredths and rpm (the two aggregated fields)
    stats = []
    for ln in lines:
        r = json.loads(ln)
        stats.append((round(r["speed_kmh"] * 100), r["engine"]["rpm"]))
    pos = 0

    def take(agg, limit_rows=None, limit_bytes=None):
        """the next lines of the block (wrapping), as bytes; adds them to agg"""
        nonlocal pos
        out, size = [], 0
        while True:
            if limit_rows is not None and len(out) >= limit_rows:
                break
            ln = lines[pos]
            if limit_bytes is not None and size + len(ln) > limit_bytes:
                break
            out.append(ln)
            size += len(ln)
            agg.add(*stats[pos])
            pos = (pos + 1) % len(lines)
        return b"".join(out)

    sets = {}

    def mkdir(*parts):
        d = os.path.join(a.out, *parts)
        os.makedirs(d, exist_ok=True)
        return d

    # the lake: rows spread evenly over the 120 objects
    full, d21 = Agg(), Agg()
    nobj = DAYS * PARTS
    lake_bytes = 0
    for i in range(nobj):
        day, part = i // PARTS + 1, i % PARTS
        rows = a.lake_rows // nobj + (1 if i < a.lake_rows % nobj else 0)
        agg = Agg()
        body = take(agg, limit_rows=rows)
        with open(os.path.join(mkdir("lake", f"day={day}"), f"part-{part}.jsonl"), "wb") as f:
            f.write(body)
        lake_bytes += len(body)
        full.merge(agg)
        if day == 21:
            d21.merge(agg)
    sets["lake"] = {"objects": nobj, "bytes": lake_bytes, "answer": full.answer()}
    sets["lake_day21"] = {"objects": PARTS, "answer": d21.answer()}

    # small objects, and the same bytes as 4 large ones
    small, bodies = Agg(), []
    sdir = mkdir("small")
    for i in range(a.small):
        body = take(small, limit_bytes=SMALL_BYTES)
        bodies.append(body)
        with open(os.path.join(sdir, f"obj-{i:04d}.jsonl"), "wb") as f:
            f.write(body)
    total = sum(len(b) for b in bodies)
    sets["small"] = {"objects": a.small, "bytes": total, "answer": small.answer()}
    ldir = mkdir("large")
    groups = 4
    for j in range(groups):
        with open(os.path.join(ldir, f"part-{j}.jsonl"), "wb") as f:
            for body in bodies[j * a.small // groups:(j + 1) * a.small // groups]:
                f.write(body)
    sets["large"] = {"objects": groups, "bytes": total, "answer": small.answer()}

    # one big object: whole copies of the block, then a prefix of it
    block_agg = Agg()
    for s in stats:
        block_agg.add(*s)
    block = b"".join(lines)
    target = a.par_mb * 10**6
    reps = max(1, target // len(block))
    par = Agg()
    par.merge(block_agg, reps)
    pos = 0
    with open(os.path.join(mkdir("par"), "big.jsonl"), "wb") as f:
        for _ in range(reps):
            f.write(block)
        rest = take(par, limit_bytes=max(0, target - reps * len(block))) if reps * len(block) < target else b""
        f.write(rest)
    sets["par"] = {"objects": 1, "bytes": reps * len(block) + len(rest), "answer": par.answer()}

    # tiny objects: one row each
    tiny = Agg()
    tiny_bytes = 0
    for i in range(a.tiny):
        body = take(tiny, limit_rows=1)
        with open(os.path.join(mkdir("tiny", f"c{i % a.tiny_chunks}"), f"obj-{i:05d}.jsonl"), "wb") as f:
            f.write(body)
        tiny_bytes += len(body)
    sets["tiny"] = {"objects": a.tiny, "bytes": tiny_bytes, "answer": tiny.answer()}

    print(json.dumps(sets, indent=1))


if __name__ == "__main__":
    main()
