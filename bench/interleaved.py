#!/usr/bin/env python3
"""Side-by-side timing on a noisy machine: commands run in turn, round after round.

    python3 bench/interleaved.py [--runs 10] [--cwd DIR] 'COMMAND A' 'COMMAND B' ...

hyperfine runs all of one command's runs, then all of the next's: when the machine's load
changes in between (a shared or virtual machine), one command pays for it and the other does
not. Here round k runs every command once, in the order given, so a busy spell hits them all.
One warm-up round is not counted. For each command it prints the median wall time, the median
CPU time (user + system, children included), the median peak RSS, and the median of its
per-round ratios to the first command's wall time: the figure to quote.

Commands run through the shell, with their output thrown away; an exit code other than 0 or 1
(a check with findings exits 1) stops the run.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time


def run_once(command: str, cwd: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one run."""
    started = time.perf_counter()
    process = subprocess.Popen(command, shell=True, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"interleaved.py: `{command}` exited with {code}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="counted rounds (default 10)")
    parser.add_argument("--cwd", default=".", help="folder to run the commands in")
    parser.add_argument("commands", nargs="+")
    args = parser.parse_args()
    if args.runs < 1:
        sys.exit("interleaved.py: --runs must be at least 1")

    samples: dict[str, list[tuple[float, float, float]]] = {c: [] for c in args.commands}
    for round_ in range(args.runs + 1):
        for command in args.commands:
            sample = run_once(command, args.cwd)
            if round_ > 0:
                samples[command].append(sample)

    first = samples[args.commands[0]]
    print(f"{args.runs} interleaved rounds in {os.path.abspath(args.cwd)}\n")
    print("| command | median wall (s) | median CPU (s) | median peak RSS (MB) | wall ÷ first |")
    print("|---|---:|---:|---:|---:|")
    for command in args.commands:
        runs = samples[command]
        wall = statistics.median(s[0] for s in runs)
        cpu = statistics.median(s[1] for s in runs)
        rss = statistics.median(s[2] for s in runs)
        ratio = statistics.median(s[0] / f[0] for s, f in zip(runs, first))
        print(f"| `{command}` | {wall:.3f} | {cpu:.3f} | {rss:.0f} | {ratio:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
