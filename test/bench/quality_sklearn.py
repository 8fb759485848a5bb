# Quality reference for test/bench/quality.mjs: writes seeded train/test CSV splits of the shared datasets and
# scores scikit-learn's LogisticRegression(C=1) / Ridge(alpha=1) pipelines on them.
# Usage: /usr/bin/python3 quality_sklearn.py --data DIR --out DIR [--seeds 0,1,2]  (prints JSON on stdout)
import argparse
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

DATASETS = [
    # (file stem, target, task)
    ("breast_cancer", "diagnosis", "classification"),
    ("iris", "species", "classification"),
    ("wine", "cultivar", "classification"),
    ("penguins", "species", "classification"),
    ("diabetes", "progression", "regression"),
]


def preprocessor(X):
    """Median impute + standardise numbers; constant 'missing' impute + one-hot (unknown → zeros) for text."""
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    categorical = [c for c in X.columns if c not in numeric]
    return ColumnTransformer(
        [
            ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
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
        ]
    )


def score(train_path, test_path, target, task):
    train = pd.read_csv(train_path)
    test = pd.read_csv(test_path)
    X_train, y_train = train.drop(columns=[target]), train[target]
    X_test, y_test = test.drop(columns=[target]), test[target]
    model = LogisticRegression(C=1) if task == "classification" else Ridge(alpha=1)
    pipe = Pipeline([("pre", preprocessor(X_train)), ("model", model)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe.fit(X_train, y_train)
    notes = sorted({type(w.message).__name__ for w in caught})
    pred = pipe.predict(X_test)
    if task == "classification":
        return {"accuracy": float(accuracy_score(y_test, pred))}, notes
    return {"rmse": float(np.sqrt(mean_squared_error(y_test, pred)))}, notes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="folder with the shared datasets")
    parser.add_argument("--out", required=True, help="folder to write the splits into")
    parser.add_argument("--seeds", default="0", help="comma-separated random_state values")
    parser.add_argument("--test-size", type=float, default=0.2)
    args = parser.parse_args()

    results = []
    for stem, target, task in DATASETS:
        df = pd.read_csv(os.path.join(args.data, f"{stem}.csv"))
        for seed in [int(s) for s in args.seeds.split(",")]:
            stratify = df[target] if task == "classification" else None
            train, test = train_test_split(df, test_size=args.test_size, random_state=seed, stratify=stratify)
            folder = os.path.join(args.out, stem, f"seed{seed}")
            os.makedirs(folder, exist_ok=True)
            train_path = os.path.join(folder, "train.csv")
            test_path = os.path.join(folder, "test.csv")
            train.to_csv(train_path, index=False)
            test.to_csv(test_path, index=False)
            metrics, notes = score(train_path, test_path, target, task)
            results.append(
                {
                    "dataset": stem,
                    "target": target,
                    "task": task,
                    "seed": seed,
                    "train": train_path,
                    "test": test_path,
                    "nTrain": len(train),
                    "nTest": len(test),
                    "sklearn": metrics,
                    "warnings": notes,
                }
            )
    json.dump({"sklearn": sklearn.__version__, "results": results}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
