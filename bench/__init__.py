"""Benchmarks: each script prints ratios measured side by side and writes bench/results/."""
