"""Benchmarks. Each prints its rate next to a raw baseline measured in the same run on the
same machine, and the ratio between them: these machines are shared and noisy."""
