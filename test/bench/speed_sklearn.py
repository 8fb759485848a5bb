# scikit-learn side of the training-speed benchmark: read the CSV with pandas, split 80/20 (stratified), fit
# the same imputation/scaling/one-hot + LogisticRegression(C=1) pipeline as mlproj's logistic, score the 20%.
# Usage: /usr/bin/python3 speed_sklearn.py big.csv --target label [--test-size 0.2]  (phase times on stderr)
import argparse
import json
import sys
import time

t_start = time.perf_counter()
import pandas as pd  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--target", required=True)
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
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

    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    categorical = [c for c in X.columns if c not in numeric]
    pipe = Pipeline(
        [
            (
                "pre",
                ColumnTransformer(
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
                ),
            ),
            ("model", LogisticRegression(C=1)),
        ]
    )
    t = time.perf_counter()
    pipe.fit(X_train, y_train)
    phases["fit"] = time.perf_counter() - t

    t = time.perf_counter()
    accuracy = accuracy_score(y_test, pipe.predict(X_test))
    phases["score"] = time.perf_counter() - t

    for name, seconds in phases.items():
        print(f"{name} {seconds:.3f}", file=sys.stderr)
    json.dump(
        {
            "rows": len(df),
            "train": len(X_train),
            "test": len(X_test),
            "accuracy": accuracy,
            "iterations": int(pipe.named_steps["model"].n_iter_[0]),
            "phases": phases,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
