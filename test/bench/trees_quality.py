# Quality reference for test/bench/trees_quality.mjs: writes seeded train/test CSV splits of the shared datasets and
# of generated mixed-type data (categorical columns, missing values), and scores scikit-learn's
# HistGradientBoosting* and RandomForest* and XGBoost's hist trees on them with the parameters of issue #3.
# Usage: /usr/bin/python3 trees_quality.py --data DIR --out DIR [--seeds 0,1,2] [--gen-seeds 0] [--gen-rows 125000]
#        (prints JSON on stdout, progress on stderr)
import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd
import sklearn
from threadpoolctl import threadpool_limits
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, OrdinalEncoder

try:
    import xgboost
except ImportError:  # reported as missing, the rest still runs
    xgboost = None

DATASETS = [
    # (file stem, target, task)
    ("breast_cancer", "diagnosis", "classification"),
    ("penguins", "species", "classification"),
    ("wine", "cultivar", "classification"),
    ("diabetes", "progression", "regression"),
]

# ---- generated data --------------------------------------------------------------------------------------------
# Mixed-type data with a known non-linear signal: 10 numeric columns (a few with missing values, one of them
# informatively missing), 3 text columns with 4, 10 and 30 levels (a few missing), and either a 0/1 label
# (classification) or a noisy real target (regression). The structure (level effects, thresholds) comes from a
# generator seeded with 1000; the rows from one seeded with --gen-data-seed. Deterministic.
N_NUMERIC = 10
LEVELS = {"c0": 4, "c1": 10, "c2": 30}


def generate(n, task, seed):
    structure = np.random.default_rng(1000)
    effects = {name: structure.normal(0, 1, k) for name, k in LEVELS.items()}
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, N_NUMERIC))
    codes = {name: rng.integers(0, k, n) for name, k in LEVELS.items()}
    f = (
        1.2 * np.sin(1.5 * z[:, 0])
        + 0.8 * z[:, 1] * z[:, 2]
        + 1.0 * (z[:, 3] > 0.5)
        - 0.7 * np.abs(z[:, 4])
        + 0.4 * z[:, 5]
        + 0.3 * np.clip(z[:, 6], -1, 2) ** 2
        + effects["c0"][codes["c0"]]
        + 0.8 * effects["c1"][codes["c1"]] * (z[:, 7] > 0)
        + 0.6 * effects["c2"][codes["c2"]]
    )
    columns = {}
    for j in range(N_NUMERIC):
        columns[f"n{j}"] = (10.0 ** (j % 4 - 1)) * z[:, j] + 5 * j  # varied scales and locations
    # Informative missingness: n8 is missing more often where the signal is high; n0, n3 missing at random.
    miss8 = rng.random(n) < np.where(f > 1, 0.25, 0.03)
    columns["n8"][miss8] = np.nan
    for j in (0, 3):
        columns[f"n{j}"][rng.random(n) < 0.05] = np.nan
    for name, k in LEVELS.items():
        text = np.array([f"{name}_{i:02d}" for i in range(k)], dtype=object)[codes[name]]
        text[rng.random(n) < 0.03] = None  # empty field in the CSV
        columns[name] = text
    if task == "classification":
        logit = 1.5 * (f - np.median(f))
        columns["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    else:
        columns["target"] = 10 * f + rng.normal(0, 8, n) + 100
    return pd.DataFrame(columns)


GENERATED = [
    # (name, target, task)
    ("generated_classification", "label", "classification"),
    ("generated_regression", "target", "regression"),
]

# ---- models ----------------------------------------------------------------------------------------------------


def split_columns(X):
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    categorical = [c for c in X.columns if c not in numeric]
    return numeric, categorical


def hgb(X, task):
    """HistGradientBoosting with the matched parameters; text columns ordinal-encoded as categorical features."""
    numeric, categorical = split_columns(X)
    pre = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan),
                categorical,
            ),
            ("num", "passthrough", numeric),
        ]
    )
    params = dict(
        max_iter=100,
        learning_rate=0.1,
        max_leaf_nodes=31,
        min_samples_leaf=20,
        l2_regularization=0.0,
        max_bins=255,
        early_stopping=False,
        categorical_features=np.array([True] * len(categorical) + [False] * len(numeric), dtype=bool),
    )
    model = HistGradientBoostingClassifier(**params) if task == "classification" else HistGradientBoostingRegressor(**params)
    return Pipeline([("pre", pre), ("model", model)])


def forest(X, task, seed, n_jobs=None):
    """RandomForest with median imputation and one-hot encoding (scikit-learn 1.2 trees take no NaN)."""
    numeric, categorical = split_columns(X)
    pre = ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), numeric),
            (
                "cat",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                categorical,
            ),
        ],
        sparse_threshold=0,  # dense: scikit-learn's trees are many times slower on sparse input
    )
    params = dict(n_estimators=100, min_samples_leaf=1, bootstrap=True, n_jobs=n_jobs or -1, random_state=seed)
    model = (
        RandomForestClassifier(max_features="sqrt", **params)
        if task == "classification"
        else RandomForestRegressor(max_features=1.0, **params)
    )
    return Pipeline([("pre", pre), ("model", model)])


def xgb_frames(X_train, X_test):
    """Text columns as pandas category dtype with the training categories (NaN stays missing)."""
    _, categorical = split_columns(X_train)
    X_train, X_test = X_train.copy(), X_test.copy()
    for c in categorical:
        cats = sorted(X_train[c].dropna().unique())
        X_train[c] = pd.Categorical(X_train[c], categories=cats)
        X_test[c] = pd.Categorical(X_test[c], categories=cats)
    return X_train, X_test


def xgb(task, seed, n_jobs=None):
    params = dict(
        tree_method="hist",
        n_estimators=100,
        max_leaves=31,
        max_depth=0,  # no depth bound, like the others (XGBoost's default 6 would cap lossguide trees)
        grow_policy="lossguide",
        learning_rate=0.1,
        max_bin=255,
        enable_categorical=True,
        random_state=seed,
        n_jobs=n_jobs or os.cpu_count(),
    )
    return xgboost.XGBClassifier(**params) if task == "classification" else xgboost.XGBRegressor(**params)


def metric(task, y_true, pred):
    if task == "classification":
        return {"accuracy": float(accuracy_score(y_true, pred))}
    return {"rmse": float(np.sqrt(mean_squared_error(y_true, pred)))}


def score(train_path, test_path, target, task, seed, n_jobs):
    train = pd.read_csv(train_path)
    test = pd.read_csv(test_path)
    X_train, y_train = train.drop(columns=[target]), train[target]
    X_test, y_test = test.drop(columns=[target]), test[target]
    out, seconds, notes = {}, {}, set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, pipe in (("hgb", hgb(X_train, task)), ("rf", forest(X_train, task, seed, n_jobs))):
            t = time.perf_counter()
            pipe.fit(X_train, y_train)
            out[name] = metric(task, y_test, pipe.predict(X_test))
            seconds[name] = time.perf_counter() - t
        if xgboost is not None:
            t = time.perf_counter()
            Xa, Xb = xgb_frames(X_train, X_test)
            model = xgb(task, seed, n_jobs)
            if task == "classification":
                enc = LabelEncoder().fit(y_train)
                model.fit(Xa, enc.transform(y_train))
                pred = enc.inverse_transform(model.predict(Xb).astype(int))
            else:
                model.fit(Xa, y_train)
                pred = model.predict(Xb)
            out["xgb"] = metric(task, y_test, pred)
            seconds["xgb"] = time.perf_counter() - t
    notes = sorted({type(w.message).__name__ for w in caught})
    return out, seconds, notes


def write_split(df, target, task, seed, folder, test_size):
    stratify = df[target] if task == "classification" else None
    train, test = train_test_split(df, test_size=test_size, random_state=seed, stratify=stratify)
    os.makedirs(folder, exist_ok=True)
    train_path = os.path.join(folder, "train.csv")
    test_path = os.path.join(folder, "test.csv")
    train.to_csv(train_path, index=False)
    test.to_csv(test_path, index=False)
    return train_path, test_path, len(train), len(test)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="folder with the shared datasets")
    parser.add_argument("--out", required=True, help="folder to write the splits into")
    parser.add_argument("--seeds", default="0", help="split seeds (random_state) for the shared datasets")
    parser.add_argument("--gen-seeds", default="0", help="split seeds for the generated data ('' for none)")
    parser.add_argument("--gen-rows", type=int, default=125_000, help="rows of generated data (80%% train)")
    parser.add_argument("--gen-data-seed", type=int, default=0, help="seed of the generated rows")
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--only", default="", help="comma-separated dataset names to run (default: all)")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))

    jobs = []
    for stem, target, task in DATASETS:
        if only and stem not in only:
            continue
        df = pd.read_csv(os.path.join(args.data, f"{stem}.csv"))
        jobs += [(stem, target, task, df, int(s)) for s in args.seeds.split(",") if s != ""]
    for name, target, task in GENERATED:
        if only and name not in only:
            continue
        seeds = [int(s) for s in args.gen_seeds.split(",") if s != ""]
        if not seeds:
            continue
        df = generate(args.gen_rows, task, args.gen_data_seed)
        path = os.path.join(args.out, name, "all.csv")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        df.to_csv(path, index=False, float_format="%.9g")
        df = pd.read_csv(path)  # exactly what the CSV holds
        jobs += [(name, target, task, df, s) for s in seeds]

    results = []
    for stem, target, task, df, seed in jobs:
        folder = os.path.join(args.out, stem, f"seed{seed}")
        train_path, test_path, n_train, n_test = write_split(df, target, task, seed, folder, args.test_size)
        # One thread on small data: OpenMP's spinning threads make a 400-row fit take a minute on a busy machine.
        # Thread count does not change these models' predictions (RandomForest is seeded per tree).
        with threadpool_limits(limits=1 if len(df) < 10_000 else None):
            metrics, seconds, notes = score(train_path, test_path, target, task, seed, 1 if len(df) < 10_000 else None)
        print(f"{stem} seed {seed}: {metrics} ({', '.join(f'{k} {v:.1f} s' for k, v in seconds.items())})", file=sys.stderr)
        results.append(
            {
                "dataset": stem,
                "target": target,
                "task": task,
                "seed": seed,
                "train": train_path,
                "test": test_path,
                "nTrain": n_train,
                "nTest": n_test,
                "columns": int(df.shape[1] - 1),
                "reference": metrics,
                "seconds": seconds,
                "warnings": notes,
            }
        )
    json.dump(
        {
            "sklearn": sklearn.__version__,
            "xgboost": xgboost.__version__ if xgboost is not None else None,
            "results": results,
        },
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
