#!/usr/bin/env python3
"""California housing: a 12-trial sweep with 3-fold cross-validation through a running ModelService.

Uploads the rows whose 0-based index % 5 != 0 (raw: missing total_bedrooms stay empty, ocean_proximity a string), sweeps
hidden channels [32, 32] and [64, 64] x learning rates 3e-4, 1e-3, 3e-3 x weight decays 0 and 1e-4 (20 epochs, batch
64, Adam, seed 0, folds 3, metric rmse, keep 1: the best trial is trained again on every row), and scores the other
rows with the kept model. Prints one JSON line: `seconds` is submit to succeeded as the client saw it, `test_rmse` the
kept model's in dollars (comparable with benchmarks/peers/sklearn_gridsearch_california.py on the same split).

    /usr/bin/python3 benchmarks/sweep/california_via_api.py ../shared/data/california_housing.csv --url URL [--api-key KEY]
"""
import argparse
import csv
import io
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quality"))
from api_client import Client  # noqa: E402

TARGET = "median_house_value"
CATEGORICAL = {"ocean_proximity"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key")
    args = parser.parse_args()
    client = Client(args.url, args.api_key)

    with open(args.csv, newline="") as f:
        header, *rows = list(csv.reader(f))
    train = [r for i, r in enumerate(rows) if i % 5 != 0]
    test = [r for i, r in enumerate(rows) if i % 5 == 0]
    upload = io.StringIO()
    csv.writer(upload).writerows([header, *train])
    dataset = client.call("POST", "/api/v1/datasets?name=california-train", upload.getvalue().encode(), "text/csv")
    target = header.index(TARGET)
    records = [{name: None if r[j] == "" else (r[j] if name in CATEGORICAL else float(r[j]))
                for j, name in enumerate(header) if j != target} for r in test]
    truth = [float(r[target]) for r in test]

    started = time.perf_counter()
    sweep = client.call("POST", "/api/v1/sweeps", json.dumps({
        "datasetId": dataset["id"], "target": TARGET, "folds": 3, "metric": "rmse", "keep": 1,
        "base": {"epochs": 20, "batchSize": 64, "optimizer": "adam", "seed": 0},
        "grid": {"hiddenChannels": [[32, 32], [64, 64]], "learningRate": [3e-4, 1e-3, 3e-3], "weightDecay": [0, 1e-4]},
    }).encode())
    while sweep["status"] in ("queued", "running"):
        time.sleep(0.1)
        sweep = client.call("GET", f"/api/v1/sweeps/{sweep['id']}")
    seconds = time.perf_counter() - started
    if sweep["status"] != "succeeded":
        raise SystemExit(f"sweep {sweep['id']} {sweep['status']}: {sweep['error']}")
    scored = client.call("POST", "/api/v1/predictions", json.dumps({"records": records, "modelId": sweep["bestModelId"]}).encode())
    rmse = math.sqrt(sum((p - y) ** 2 for p, y in zip(scored["predictions"], truth)) / len(truth))
    best = sweep["leaderboard"][0]
    print(json.dumps({"service": "modelservice", "seconds": round(seconds, 3), "test_rmse": round(rmse, 1),
                      "best_cv_rmse": round(best["score"], 1), "best_cv_spread": round(best["spread"], 1),
                      "best": best["settings"]}), flush=True)


if __name__ == "__main__":
    main()
