"""The baseline of the serve benchmark: FastAPI + uvicorn + scikit-learn, the stack of MLflow's scoring server.

  serve_fastapi.py train --data D.csv --target T --out model.joblib    # fit and pickle, as `mlflow.sklearn.log_model`
  serve_fastapi.py serve --model model.joblib --port P [--workers N]   # POST /invocations, GET /ping

The server does what MLflow's pyfunc scoring server does for a tabular model: parse the JSON body
(dataframe_split or dataframe_records) into a pandas DataFrame, call the pipeline, answer
{"predictions": [records]} with the same columns as mlproj (predicted_<target>, probability for binary).
The model: HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=31) — LightGBM-style
boosting with mlproj gbdt's defaults — after an OrdinalEncoder for text columns (native categorical splits).
"""

import argparse
import os
import sys

import joblib
import numpy as np
import pandas as pd


def train(args):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    df = pd.read_csv(args.data)
    y = df.pop(args.target).astype(str)
    text = [c for c in df.columns if df[c].dtype == object]
    numbers = [c for c in df.columns if c not in text]
    pre = ColumnTransformer(
        [
            ("text", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), text),
            ("numbers", "passthrough", numbers),
        ]
    )
    model = HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.1,
        max_leaf_nodes=31,
        categorical_features=[i < len(text) for i in range(len(text) + len(numbers))] if text else None,
        random_state=0,
    )
    pipeline = Pipeline([("pre", pre), ("model", model)]).fit(df, y)
    joblib.dump({"pipeline": pipeline, "columns": list(df.columns), "target": args.target}, args.out)


def make_app(path):
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    saved = joblib.load(path)
    pipeline, columns, target = saved["pipeline"], saved["columns"], saved["target"]
    classes = [str(c) for c in pipeline.classes_]
    app = FastAPI()

    @app.get("/ping")
    async def ping():
        return {"status": "ready"}

    @app.post("/invocations")
    async def invocations(request: Request):
        body = await request.json()
        if "dataframe_split" in body:
            split = body["dataframe_split"]
            df = pd.DataFrame(data=split["data"], columns=split["columns"])
        elif "dataframe_records" in body:
            df = pd.DataFrame.from_records(body["dataframe_records"])
        else:
            return JSONResponse({"error_code": "BAD_REQUEST", "message": "unsupported form"}, status_code=400)
        missing = [c for c in columns if c not in df.columns]
        if missing:
            return JSONResponse({"error_code": "BAD_REQUEST", "message": f"missing {missing}"}, status_code=400)
        proba = pipeline.predict_proba(df[columns])
        labels = np.asarray(classes)[proba.argmax(axis=1)]
        name = f"predicted_{target}"
        if len(classes) == 2:
            predictions = [{name: str(l), "probability": float(p[1])} for l, p in zip(labels, proba)]
        else:
            predictions = [
                {name: str(l), **{f"probability_{c}": float(v) for c, v in zip(classes, p)}}
                for l, p in zip(labels, proba)
            ]
        return {"predictions": predictions}

    return app


if os.environ.get("SERVE_FASTAPI_MODEL"):
    app = make_app(os.environ["SERVE_FASTAPI_MODEL"])


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--target", required=True)
    t.add_argument("--out", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--model", required=True)
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.command == "train":
        train(args)
        return
    import uvicorn

    os.environ["SERVE_FASTAPI_MODEL"] = os.path.abspath(args.model)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    uvicorn.run("serve_fastapi:app", host="127.0.0.1", port=args.port, workers=args.workers, log_level="warning")


if __name__ == "__main__":
    main()
