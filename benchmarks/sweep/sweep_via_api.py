#!/usr/bin/env python3
"""The seed job's 16-trial grid through a running ModelService, against one seed job on the same service.

Uploads the seed job's 1000 rows (as benchmarks/load/first_job.py), runs the seed job (16-8 relu, Adam 1e-3, 50 epochs,
batch 16, validation 0.2, seed 42), then the sweep POST /api/v1/sweeps with that job as its base and a grid of learning
rates 3e-4, 1e-3, 3e-3, 1e-2 x weight decays 0, 1e-4, 1e-3, 1e-2 (the grid of benchmarks/peers/pytorch_sweep.py), then
the seed job once more. Prints one JSON line: `job` is the mean of the two jobs' finishedAt - startedAt, `sweep` the
sweep's (the training the service does), `sweep_wall` submit to succeeded as the client saw it, and the leaderboard's
best trial.

    /usr/bin/python3 benchmarks/sweep/sweep_via_api.py --url http://127.0.0.1:5104 [--api-key KEY]
"""
import argparse
import json
import os
import random
import sys
import time
from datetime import datetime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quality"))
from api_client import Client  # noqa: E402

SEED_JOB = {"target": "price", "hiddenChannels": [16, 8], "epochs": 50, "batchSize": 16, "learningRate": 0.001,
            "validationFraction": 0.2, "seed": 42}
GRID = {"learningRate": [3e-4, 1e-3, 3e-3, 1e-2], "weightDecay": [0, 1e-4, 1e-3, 1e-2]}


def trained_seconds(item):
    return (datetime.fromisoformat(item["finishedAt"]) - datetime.fromisoformat(item["startedAt"])).total_seconds()


def run_job(client, dataset_id):
    job = client.call("POST", "/api/v1/training-jobs", json.dumps({**SEED_JOB, "datasetId": dataset_id, "activate": False}).encode())
    return trained_seconds(client.wait(f"/api/v1/training-jobs/{job['id']}", poll_seconds=0.01))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key")
    args = parser.parse_args()
    client = Client(args.url, args.api_key)
    rng = random.Random(7)
    rows = [(rng.random(), rng.random()) for _ in range(1000)]
    csv = "square_footage,rooms,price\n" + "".join(f"{a!r},{b!r},{500000 * a + 100000 * b!r}\n" for a, b in rows)
    dataset = client.call("POST", "/api/v1/datasets?name=seed", csv.encode(), "text/csv")

    before = run_job(client, dataset["id"])
    started = time.perf_counter()
    sweep = client.call("POST", "/api/v1/sweeps", json.dumps({
        "datasetId": dataset["id"], "target": "price", "base": {k: v for k, v in SEED_JOB.items() if k != "target"},
        "grid": GRID, "metric": "rmse", "keep": 1}).encode())
    sweep = client.wait(f"/api/v1/sweeps/{sweep['id']}", poll_seconds=0.01)
    sweep_wall = time.perf_counter() - started
    after = run_job(client, dataset["id"])
    best = sweep["leaderboard"][0]
    print(json.dumps({"service": "modelservice", "job": round((before + after) / 2, 3), "job_before": round(before, 3),
                      "job_after": round(after, 3), "sweep": round(trained_seconds(sweep), 3), "sweep_wall": round(sweep_wall, 3),
                      "trials": len(sweep["trials"]), "best_trial": best["trial"], "best_settings": best["settings"],
                      "best_validation_rmse": round(best["score"], 1)}), flush=True)


if __name__ == "__main__":
    main()
