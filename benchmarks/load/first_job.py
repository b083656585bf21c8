#!/usr/bin/env python3
"""The first seed job of a fresh service, timed as the service records it.

Uploads the seed job's 1000 rows (as seed_via_api.py), submits the seed job (16-8 relu, Adam 1e-3, 50 epochs,
batch 16, validation 0.2, seed 42) and polls every 10 ms until it succeeds, then does the same once more. Prints one
JSON line: `first` and `second` are each job's finishedAt - startedAt in seconds (the training the service does),
`first_wall` is submit to succeeded as the client saw it.

    /usr/bin/python3 benchmarks/load/first_job.py --url http://127.0.0.1:5103
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


def run_job(client, dataset_id):
    started = time.perf_counter()
    job = client.call("POST", "/api/v1/training-jobs", json.dumps({
        "datasetId": dataset_id, "target": "price", "hiddenChannels": [16, 8], "epochs": 50, "batchSize": 16,
        "learningRate": 0.001, "validationFraction": 0.2, "seed": 42, "activate": False}).encode())
    job = client.wait(f"/api/v1/training-jobs/{job['id']}", poll_seconds=0.01)
    wall = time.perf_counter() - started
    trained = datetime.fromisoformat(job["finishedAt"]) - datetime.fromisoformat(job["startedAt"])
    return trained.total_seconds(), wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    client = Client(args.url)
    rng = random.Random(7)
    rows = [(rng.random(), rng.random()) for _ in range(1000)]
    csv = "square_footage,rooms,price\n" + "".join(f"{a!r},{b!r},{500000 * a + 100000 * b!r}\n" for a, b in rows)
    dataset = client.call("POST", "/api/v1/datasets?name=seed", csv.encode(), "text/csv")
    first, first_wall = run_job(client, dataset["id"])
    second, _ = run_job(client, dataset["id"])
    print(json.dumps({"service": "modelservice", "job": "seed", "first": round(first, 3), "first_wall": round(first_wall, 3),
                      "second": round(second, 3)}), flush=True)


if __name__ == "__main__":
    main()
