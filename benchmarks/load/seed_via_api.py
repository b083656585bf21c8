#!/usr/bin/env python3
"""The seed job through a running ModelService, timed as a client sees it.

Uploads 1000 synthetic rows (square_footage, rooms ~ U[0,1), price = 500000*x0 + 100000*x1) as CSV once, then for
each run submits the seed job (seed 42, as the PyTorch script) (16-8 relu, Adam 1e-3, 50 epochs, batch 16, validation 0.2) and polls until it
succeeds. `seconds` is submit to succeeded; `test_rmse` scores 1000 fresh rows through /api/v1/predictions.

    /usr/bin/python3 benchmarks/load/seed_via_api.py --url http://127.0.0.1:5101 [--runs 3] [--threads N]
"""
import argparse
import json
import math
import random
import time
import urllib.request


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    def call(method, path, body=None, content_type="application/json"):
        headers = {"Content-Type": content_type} if body is not None else {}
        request = urllib.request.Request(args.url + path, body, headers, method=method)
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    rng = random.Random(7)
    rows = [(rng.random(), rng.random()) for _ in range(1000)]
    csv = "square_footage,rooms,price\n" + "".join(f"{a!r},{b!r},{500000 * a + 100000 * b!r}\n" for a, b in rows)
    dataset = call("POST", "/api/v1/datasets?name=seed", csv.encode(), "text/csv")
    test = [(rng.random(), rng.random()) for _ in range(1000)]
    records = [{"square_footage": a, "rooms": b} for a, b in test]

    for run in range(args.runs):
        started = time.perf_counter()
        job = call("POST", "/api/v1/training-jobs", json.dumps({
            "datasetId": dataset["id"], "target": "price", "hiddenChannels": [16, 8], "epochs": 50, "batchSize": 16,
            "learningRate": 0.001, "validationFraction": 0.2, "seed": 42, "activate": False}).encode())
        while job["status"] in ("queued", "running"):
            time.sleep(0.01)
            job = call("GET", f"/api/v1/training-jobs/{job['id']}")
        seconds = time.perf_counter() - started
        if job["status"] != "succeeded":
            raise SystemExit(f"job {job['id']} {job['status']}: {job['error']}")
        scored = call("POST", "/api/v1/predictions", json.dumps({"records": records, "modelId": job["modelId"]}).encode())
        rmse = math.sqrt(sum((p - (500000 * a + 100000 * b)) ** 2 for p, (a, b) in zip(scored["predictions"], test)) / len(test))
        print(json.dumps({"service": "modelservice", "job": "seed", "run": run, "seconds": round(seconds, 3),
                          "test_rmse": round(rmse, 1)}), flush=True)


if __name__ == "__main__":
    main()
