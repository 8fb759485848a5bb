# pandas + scikit-learn side of test/bench/batch.mjs (issue #4): batch scoring as a user writes it by hand.
#   fit TRAIN.csv --target churned --ignore customer_id --model hgb|logistic --out MODEL.joblib [--trees 100]
#       fits the pipeline equivalent to mlproj's --algo gbdt / logistic on the whole file and saves it with joblib
#       (untimed by the benchmark).
#   predict MODEL.joblib INPUT OUTPUT
#       the timed job: load the model → pd.read_csv (read_parquet for .parquet) → pipeline.predict_proba, the
#       predicted class taken from the same probabilities → the input columns + predicted_<target> + probability
#       → to_csv(index=False) (to_parquet for .parquet). Phase times on stderr ("name seconds"), JSON on stdout.
import argparse
import json
import sys
import time

t_start = time.perf_counter()


def hgb(X, trees):
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

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
    model = HistGradientBoostingClassifier(
        max_iter=trees,
        learning_rate=0.1,
        max_leaf_nodes=31,
        max_depth=None,
        min_samples_leaf=20,
        l2_regularization=0.0,
        max_bins=255,
        early_stopping=False,
        categorical_features=np.array([True] * len(categorical) + [False] * len(numeric), dtype=bool),
    )
    return Pipeline([("pre", pre), ("model", model)])


def logistic(X):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric, categorical = split_columns(X)
    pre = ColumnTransformer(
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
    return Pipeline([("pre", pre), ("model", LogisticRegression(C=1))])


def split_columns(X):
    import pandas as pd

    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    return numeric, [c for c in X.columns if c not in numeric]


def fit(args):
    import joblib
    import pandas as pd

    t = time.perf_counter()
    df = pd.read_csv(args.data)
    ignore = [c for c in args.ignore.split(",") if c]
    X, y = df.drop(columns=[args.target, *ignore]), df[args.target]
    pipe = hgb(X, args.trees) if args.model == "hgb" else logistic(X)
    pipe.fit(X, y)
    accuracy = float((pipe.predict(X) == y).mean())
    joblib.dump({"pipeline": pipe, "target": args.target}, args.out)
    json.dump(
        {"rows": len(df), "train_accuracy": accuracy, "seconds": time.perf_counter() - t},
        sys.stdout,
    )
    sys.stdout.write("\n")


def predict(args):
    import joblib
    import pandas as pd

    phases = {"import": time.perf_counter() - t_start}

    t = time.perf_counter()
    bundle = joblib.load(args.model)
    pipe, target = bundle["pipeline"], bundle["target"]
    phases["load"] = time.perf_counter() - t

    t = time.perf_counter()
    df = pd.read_parquet(args.input) if args.input.endswith(".parquet") else pd.read_csv(args.input)
    phases["read"] = time.perf_counter() - t

    t = time.perf_counter()
    proba = pipe.predict_proba(df)  # the ColumnTransformer picks the feature columns by name
    classes = pipe.classes_
    df[f"predicted_{target}"] = classes[proba.argmax(axis=1)]
    df["probability"] = proba[:, 1]  # of classes_[1], the positive class (as mlproj's `probability`)
    phases["predict"] = time.perf_counter() - t

    t = time.perf_counter()
    if args.output.endswith(".parquet"):
        df.to_parquet(args.output, index=False)
    else:
        df.to_csv(args.output, index=False)
    phases["write"] = time.perf_counter() - t

    for name, seconds in phases.items():
        print(f"{name} {seconds:.3f}", file=sys.stderr)
    json.dump({"rows": len(df), "phases": phases}, sys.stdout)
    sys.stdout.write("\n")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit")
    f.add_argument("data")
    f.add_argument("--target", required=True)
    f.add_argument("--ignore", default="")
    f.add_argument("--model", choices=["hgb", "logistic"], required=True)
    f.add_argument("--trees", type=int, default=100)
    f.add_argument("--out", required=True)
    p = sub.add_parser("predict")
    p.add_argument("model")
    p.add_argument("input")
    p.add_argument("output")
    args = parser.parse_args()
    fit(args) if args.command == "fit" else predict(args)


if __name__ == "__main__":
    main()
