# Writes the speed benchmark's table: N rows × (20 numeric + 3 categorical) features and a binary `label` drawn
# from a known logistic model; ~3% of the values of x0..x4 are missing. Deterministic for a given --seed.
# Usage: /usr/bin/python3 gen_data.py OUT.csv [--rows 1000000] [--seed 0]
import argparse

import numpy as np
import pandas as pd

N_NUMERIC = 20
LEVELS = {"c0": 3, "c1": 7, "c2": 12}
MISSING_COLUMNS = 5
MISSING_RATE = 0.03


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    n = args.rows

    # Standard-normal latent features, stored with column-specific location and scale so that standardisation
    # matters; the label depends on the latent values through fixed weights (half of them zero).
    z = rng.standard_normal((n, N_NUMERIC))
    loc = rng.uniform(-50, 50, N_NUMERIC)
    scale = 10.0 ** rng.uniform(-2, 3, N_NUMERIC)
    weights = np.where(np.arange(N_NUMERIC) % 2 == 0, rng.uniform(-1.5, 1.5, N_NUMERIC), 0.0)
    logit = -0.3 + z @ weights

    columns = {}
    for j in range(N_NUMERIC):
        columns[f"x{j}"] = loc[j] + scale[j] * z[:, j]
    for name, k in LEVELS.items():
        codes = rng.integers(0, k, n)
        logit += rng.uniform(-1, 1, k)[codes]
        columns[name] = np.array([f"{name}_{i}" for i in range(k)], dtype=object)[codes]
    for j in range(MISSING_COLUMNS):
        columns[f"x{j}"][rng.random(n) < MISSING_RATE] = np.nan

    columns["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    pd.DataFrame(columns).to_csv(args.out, index=False, float_format="%.6g")


if __name__ == "__main__":
    main()
