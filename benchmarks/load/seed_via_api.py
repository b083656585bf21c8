#!/usr/bin/env python3
"""The seed job through a running ModelService, timed as a client sees it.

Uploads 1000 synthetic rows (square_footage, rooms ~ U[0,1), price = 500000*x0 + 100000*x1) as CSV once, then for
each run submits the seed job (seed 42, as the PyTorch script) (16-8 relu, Adam 1e-3, 50 epochs, batch 16, validation 0.2) and polls until it
succeeds. `seconds` is submit to succeeded; `test_rmse` scores 1000 fresh rows through /api/v1/predictions.
The first `--warmup` jobs (1) are printed with "warmup": true and are not runs: the first job of a service process
also pays one-time costs (the JIT compiling the training path, LibTorch's first use) that a long-running service
pays once, not per job.

    /usr/bin/python3 benchmarks/load/seed_via_api.py --url http://127.0.0.1:5101 [--runs 3] [--warmup 1]
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quality"))
from api_client import Client  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()

    client = Client(args.url)

    rng = random.Random(7)
    rows = [(rng.random(), rng.random()) for _ in range(1000)]
    csv = "square_footage,rooms,price\n" + "".join(f"{a!r},{b!r},{500000 * a + 100000 * b!r}\n" for a, b in rows)
    dataset = client.call("POST", "/api/v1/datasets?name=seed", csv.encode(), "text/csv")
    test = [(rng.random(), rng.random()) for _ in range(1000)]
    records = [{"square_footage": a, "rooms": b} for a, b in test]
    truth = [500000 * a + 100000 * b for a, b in test]

    for run in range(-args.warmup, args.runs):
        seconds, rmse = client.train_and_score({
            "datasetId": dataset["id"], "target": "price", "hiddenChannels": [16, 8], "epochs": 50, "batchSize": 16,
            "learningRate": 0.001, "validationFraction": 0.2, "seed": 42, "activate": False}, records, truth, poll_seconds=0.01)
        result = {"service": "modelservice", "job": "seed", "seconds": round(seconds, 3), "test_rmse": round(rmse, 1)}
        print(json.dumps({"warmup": True, **result} if run < 0 else {"run": run, **result}), flush=True)


if __name__ == "__main__":
    main()
