#!/usr/bin/env python3
"""Write deterministic simulated vehicle telemetry as JSON lines or CSV.

    gen_telemetry.py --rows N [--format jsonl|csv] [--seed S] [--start EPOCH]
                     [--devices D] [--step SECONDS]

Rows go to stdout.  The same arguments always give the same bytes, so
tests and benchmarks can compare results exactly.  Each row has 12 fields:
device_id, ts (epoch seconds), ts_ms, speed_kmh, lat, lon, fuel_level,
engine_rpm, engine_temp_c, pressure_bar, vibration_mm_s, status.
"""
import argparse
import random
import sys

FIELDS = ["device_id", "ts", "ts_ms", "speed_kmh", "lat", "lon", "fuel_level",
          "engine_rpm", "engine_temp_c", "pressure_bar", "vibration_mm_s", "status"]


def rows(n, seed, start, devices, step):
    rnd = random.Random(seed)
    for i in range(n):
        dev = i % devices
        ts = start + (i // devices) * step
        yield (f"veh-{dev:05d}", ts, ts * 1000 + rnd.randrange(1000),
               round(rnd.uniform(0, 140), 2), round(rnd.uniform(-60, 70), 5),
               round(rnd.uniform(-180, 180), 5), round(rnd.random(), 3),
               rnd.randrange(600, 6000), round(rnd.uniform(60, 110), 1),
               round(rnd.uniform(1, 5), 2), round(rnd.uniform(0, 6), 2),
               rnd.choice(("ok", "ok", "ok", "warn", "alarm")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=1795219200)  # 2026-11-21 00:00 UTC
    ap.add_argument("--devices", type=int, default=100)
    ap.add_argument("--step", type=int, default=1)
    a = ap.parse_args()
    out = sys.stdout
    if a.format == "csv":
        out.write(",".join(FIELDS) + "\n")
    for r in rows(a.rows, a.seed, a.start, a.devices, a.step):
        if a.format == "csv":
            out.write(",".join(str(v) for v in r) + "\n")
        else:
            out.write('{"device_id":"%s","ts":%d,"ts_ms":%d,"speed_kmh":%s,'
                      '"location":{"lat":%s,"lon":%s},"fuel_level":%s,'
                      '"engine":{"rpm":%d,"temp_c":%s},"pressure_bar":%s,'
                      '"vibration_mm_s":%s,"status":"%s"}\n' % r)


if __name__ == "__main__":
    main()
