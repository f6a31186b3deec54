"""Evaluation data the benchmarks build or read (never used for training)."""
