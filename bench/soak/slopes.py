#!/usr/bin/env python3
"""Summarises bench/soak/soak.sh's CSV: each figure's first, last, min, max and its
least-squares slope per run (a leak shows as a steady positive slope), then the spread of
the run durations. Usage: slopes.py soak.csv"""
import csv
import statistics
import sys


def slope(ys):
    n = len(ys)
    if n < 2:
        return 0.0
    xs = range(n)
    mx, my = (n - 1) / 2, statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


def main(path):
    rows = list(csv.DictReader(open(path)))
    if not rows:
        sys.exit(f"{path}: no runs")
    print(f"soak: {len(rows)} runs, exit codes {sorted({r['exit'] for r in rows})}")
    print(f"{'figure':<22} {'first':>14} {'last':>14} {'min':>14} {'max':>14} {'slope/run':>12}")
    for key in rows[0]:
        if key in ("run", "seconds", "exit"):
            continue
        ys = [float(r[key]) for r in rows]
        # The first runs fill caches (results up to --keep-results, page cache): the slope
        # over the second half is what a long-lived host sees.
        half = ys[len(ys) // 2:]
        print(f"{key:<22} {ys[0]:>14.0f} {ys[-1]:>14.0f} {min(ys):>14.0f} {max(ys):>14.0f} "
              f"{slope(ys):>12.1f}  (second half {slope(half):.1f})")
    secs = [float(r["seconds"]) for r in rows]
    print(f"run seconds: mean {statistics.fmean(secs):.1f}, stdev {statistics.stdev(secs) if len(secs) > 1 else 0:.1f}, "
          f"min {min(secs):.1f}, max {max(secs):.1f}, slope {slope(secs):.2f}/run")


if __name__ == "__main__":
    main(sys.argv[1])
