#!/usr/bin/env python3
"""Write deterministic simulated fleet telemetry as JSON lines or CSV.

    gen_telemetry.py --rows N [--kind vehicle|diagnostics|equipment]
                     [--format jsonl|csv] [--seed S] [--start EPOCH]
                     [--devices D] [--step SECONDS] [--duplicates PCT]

Kinds:
  vehicle      (default) speed, GPS, fuel and engine health, 12 fields
  diagnostics  per-PID OBD readings: vin, pid, value, timeMili, alarmClass
  equipment    machines' temperature, pressure and vibration
--duplicates re-sends that percentage of rows (devices resend on flaky
links), which pipelines must deduplicate.

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


def diagnostics(n, seed, start, devices, step):
    rnd = random.Random(seed)
    pids = (("0x0C", 600, 6500), ("0x0D", 0, 180), ("0x05", 60, 125),
            ("0x2F", 0, 100), ("0x42", 11, 15))
    for i in range(n):
        pid, lo, hi = pids[i % len(pids)]
        value = round(rnd.uniform(lo, hi), 2)
        alarm = "major" if value > lo + 0.95 * (hi - lo) else \
                "minor" if value > lo + 0.85 * (hi - lo) else "none"
        ms = (start + (i // (devices * len(pids))) * step) * 1000 + rnd.randrange(1000)
        yield ('{"vin":"VIN%05d","pid":"%s","value":%s,"timeMili":%d,'
               '"alarmClass":"%s"}\n' % ((i // len(pids)) % devices, pid, value, ms, alarm))


def equipment(n, seed, start, devices, step):
    rnd = random.Random(seed)
    for i in range(n):
        ts = start + (i // devices) * step
        yield ('{"equipment_id":"eq-%03d","ts":%d,"temperature":%s,"pressure":%s,'
               '"vibration":%s}\n' % (i % devices, ts, round(rnd.gauss(65, 9), 2),
                                      round(rnd.gauss(2.8, 0.6), 2),
                                      round(abs(rnd.gauss(2.5, 1.1)), 2)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=1795219200)  # 2026-11-21 00:00 UTC
    ap.add_argument("--devices", type=int, default=100)
    ap.add_argument("--step", type=int, default=1)
    ap.add_argument("--kind", choices=("vehicle", "diagnostics", "equipment"),
                    default="vehicle")
    ap.add_argument("--duplicates", type=float, default=0.0)
    a = ap.parse_args()
    out = sys.stdout
    if a.kind != "vehicle":
        gen = diagnostics if a.kind == "diagnostics" else equipment
        dup = random.Random(a.seed + 1)
        for line in gen(a.rows, a.seed, a.start, a.devices, a.step):
            out.write(line)
            if dup.random() * 100 < a.duplicates:
                out.write(line)
        return
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
