"""Atende's benchmarks: `make bench` (python -m bench) prints the five figures of issue 6.

Not tests: scripts that start real processes on 127.0.0.1 and print comparable figures,
every comparison measured side by side in the same run (see docs/performance.md).
"""
