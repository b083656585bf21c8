#!/usr/bin/env python3
"""California housing: a 12-trial sweep with 3-fold cross-validation through a running ModelService.

Uploads the rows whose 0-based index % 5 != 0 (raw: missing total_bedrooms stay empty, ocean_proximity a string), sweeps
hidden channels [32, 32] and [64, 64] x learning rates 3e-4, 1e-3, 3e-3 x weight decays 0 and 1e-4 (20 epochs, batch
64, Adam with the cosine learning-rate schedule unless --schedule constant, seed 0, folds 3, metric rmse, keep 1: the best trial is trained again on every row), and scores the other
rows with the kept model. Prints one JSON line: `seconds` is submit to succeeded as the client saw it, `test_rmse` the
kept model's in dollars (comparable with benchmarks/peers/sklearn_gridsearch_california.py on the same split).

    /usr/bin/python3 benchmarks/sweep/california_via_api.py ../shared/data/california_housing.csv --url URL [--api-key KEY]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quality"))
from api_client import CALIFORNIA_TARGET, Client, upload_california  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--schedule", choices=["constant", "cosine"], default="cosine",
                        help="the base's learningRateSchedule (scikit-learn's Adam has no schedule)")
    args = parser.parse_args()
    client = Client(args.url, args.api_key)
    dataset, records, truth, _ = upload_california(client, args.csv)

    started = time.perf_counter()
    sweep = client.call("POST", "/api/v1/sweeps", json.dumps({
        "datasetId": dataset["id"], "target": CALIFORNIA_TARGET, "folds": 3, "metric": "rmse", "keep": 1,
        "base": {"epochs": args.epochs, "batchSize": 64, "optimizer": "adam", "learningRateSchedule": args.schedule, "seed": args.seed},
        "grid": {"hiddenChannels": [[32, 32], [64, 64]], "learningRate": [3e-4, 1e-3, 3e-3], "weightDecay": [0, 1e-4]},
    }).encode())
    sweep = client.wait(f"/api/v1/sweeps/{sweep['id']}", poll_seconds=0.1)
    seconds = time.perf_counter() - started
    rmse = client.test_rmse(sweep["bestModelId"], records, truth)
    best = sweep["leaderboard"][0]
    print(json.dumps({"service": "modelservice", "seconds": round(seconds, 3), "test_rmse": round(rmse, 1),
                      "best_cv_rmse": round(best["score"], 1), "best_cv_spread": round(best["spread"], 1),
                      "epochs": args.epochs, "seed": args.seed, "schedule": args.schedule, "best": best["settings"]}), flush=True)


if __name__ == "__main__":
    main()
