# Python side of test/bench/trees_speed.mjs.
#   gen OUT.csv [--rows 500000] [--features 30] [--seed 0]
#       writes a binary task: --features standard-normal columns x0.. (varied scale and location) and a 0/1
#       `label` drawn from a fixed non-linear function of the first 12 (the rest are noise). The function is the
#       same for every --seed; --seed only draws the rows. Deterministic.
#   fit DATA.csv --target label --model hgb|xgb|rf [--test-size 0.2] [--seed 42] [--trees 100]
#       the whole job as a user runs it: pd.read_csv, stratified train_test_split, fit with the settings of
#       issue #3, accuracy on the held-out rows. Phase times on stderr ("name seconds"), JSON on stdout.
import argparse
import json
import sys
import time

t_start = time.perf_counter()


def gen(args):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(args.seed)
    n, p = args.rows, args.features
    z = rng.standard_normal((n, p))
    logit = (
        1.2 * np.sin(1.5 * z[:, 0])
        + 0.8 * z[:, 1] * z[:, 2]
        + 1.0 * (z[:, 3] > 0.5)
        - 0.7 * np.abs(z[:, 4])
        + 0.5 * z[:, 5]
        + 0.3 * np.clip(z[:, 6], -1, 2) ** 2
        + 0.6 * (z[:, 7] > 0) * z[:, 8]
        + 0.25 * z[:, 9:12].sum(axis=1)
        - 0.35
    )
    columns = {f"x{j}": (10.0 ** (j % 4 - 1)) * z[:, j] + 3 * j for j in range(p)}
    columns["label"] = (rng.random(n) < 1 / (1 + np.exp(-1.5 * logit))).astype(np.int8)
    pd.DataFrame(columns).to_csv(args.out, index=False, float_format="%.7g")


def fit(args):
    import numpy as np  # noqa: F401
    import pandas as pd
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split

    if args.model == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(
            max_iter=args.trees,
            learning_rate=0.1,
            max_leaf_nodes=31,
            min_samples_leaf=20,
            l2_regularization=0.0,
            max_bins=255,
            early_stopping=False,
        )
    elif args.model == "xgb":
        import xgboost

        model = xgboost.XGBClassifier(
            tree_method="hist",
            n_estimators=args.trees,
            max_leaves=31,
            max_depth=0,
            grow_policy="lossguide",
            learning_rate=0.1,
            max_bin=255,
        )
    else:
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(
            n_estimators=args.trees, max_features="sqrt", min_samples_leaf=1, bootstrap=True, n_jobs=-1, random_state=0
        )
    phases = {"import": time.perf_counter() - t_start}

    t = time.perf_counter()
    df = pd.read_csv(args.data)
    phases["read"] = time.perf_counter() - t

    t = time.perf_counter()
    X, y = df.drop(columns=[args.target]), df[args.target]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=args.test_size, random_state=args.seed, stratify=y
    )
    phases["split"] = time.perf_counter() - t

    t = time.perf_counter()
    model.fit(X_train, y_train)
    phases["fit"] = time.perf_counter() - t

    t = time.perf_counter()
    accuracy = float(accuracy_score(y_test, model.predict(X_test)))
    phases["score"] = time.perf_counter() - t

    for name, seconds in phases.items():
        print(f"{name} {seconds:.3f}", file=sys.stderr)
    json.dump(
        {"rows": len(df), "columns": df.shape[1] - 1, "train": len(X_train), "test": len(X_test), "accuracy": accuracy},
        sys.stdout,
    )
    sys.stdout.write("\n")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gen")
    g.add_argument("out")
    g.add_argument("--rows", type=int, default=500_000)
    g.add_argument("--features", type=int, default=30)
    g.add_argument("--seed", type=int, default=0)
    f = sub.add_parser("fit")
    f.add_argument("data")
    f.add_argument("--target", required=True)
    f.add_argument("--model", choices=["hgb", "xgb", "rf"], required=True)
    f.add_argument("--test-size", type=float, default=0.2)
    f.add_argument("--seed", type=int, default=42)
    f.add_argument("--trees", type=int, default=100)
    args = parser.parse_args()
    gen(args) if args.command == "gen" else fit(args)


if __name__ == "__main__":
    main()
