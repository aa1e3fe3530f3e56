"""``python -m benchmarks``: the model benchmark table (see benchmarks/bench_model.py)."""

from benchmarks.bench_model import main

main()
