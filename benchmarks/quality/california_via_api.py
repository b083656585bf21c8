#!/usr/bin/env python3
"""California housing through a running ModelService, the way a client would use it.

Uploads the rows whose 0-based index % 5 != 0 as a CSV dataset, trains a 64-64 network for 20 epochs with
batch 64 (Adam 1e-3, no validation split) once per seed, and scores the other rows by sending them as
`records`, raw: missing total_bedrooms as null and ocean_proximity as its string. Prints one JSON line per
seed with the job's wall time (submit to succeeded) and the test RMSE in dollars, comparable with
benchmarks/peers/sklearn_california.py and pytorch_california.py on the same split.

    /usr/bin/python3 benchmarks/quality/california_via_api.py ../shared/data/california_housing.csv \
        [--url http://localhost:5000] [--seeds 0,1,2,3,4] [--api-key KEY]
"""
import argparse
import csv
import io
import json
import math
import time
import urllib.request

TARGET = "median_house_value"
CATEGORICAL = {"ocean_proximity"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--api-key")
    args = parser.parse_args()

    def call(method, path, body=None, content_type="application/json"):
        headers = {"Content-Type": content_type} if body is not None else {}
        if args.api_key:
            headers["X-Api-Key"] = args.api_key
        request = urllib.request.Request(args.url + path, body, headers, method=method)
        with urllib.request.urlopen(request) as response:
            return json.load(response)

    with open(args.csv, newline="") as f:
        header, *rows = list(csv.reader(f))
    train = [r for i, r in enumerate(rows) if i % 5 != 0]
    test = [r for i, r in enumerate(rows) if i % 5 == 0]

    upload = io.StringIO()
    csv.writer(upload).writerows([header, *train])
    dataset = call("POST", "/api/v1/datasets?name=california-train", upload.getvalue().encode(), "text/csv")

    target = header.index(TARGET)
    records = [
        {name: None if r[j] == "" else (r[j] if name in CATEGORICAL else float(r[j]))
         for j, name in enumerate(header) if j != target}
        for r in test
    ]
    truth = [float(r[target]) for r in test]

    for seed in (int(s) for s in args.seeds.split(",")):
        started = time.perf_counter()
        job = call("POST", "/api/v1/training-jobs", json.dumps({
            "datasetId": dataset["id"], "target": TARGET, "hiddenChannels": [64, 64], "epochs": 20,
            "batchSize": 64, "learningRate": 0.001, "validationFraction": 0, "seed": seed, "activate": False,
        }).encode())
        while job["status"] in ("queued", "running"):
            time.sleep(0.1)
            job = call("GET", f"/api/v1/training-jobs/{job['id']}")
        seconds = time.perf_counter() - started
        if job["status"] != "succeeded":
            raise SystemExit(f"job {job['id']} {job['status']}: {job['error']}")
        scored = call("POST", "/api/v1/predictions", json.dumps({"records": records, "modelId": job["modelId"]}).encode())
        rmse = math.sqrt(sum((p - y) ** 2 for p, y in zip(scored["predictions"], truth)) / len(truth))
        print(json.dumps({"service": "modelservice", "job": "california", "seed": seed, "seconds": round(seconds, 3),
                          "test_rmse": round(rmse, 1), "train_rows": len(train), "test_rows": len(test),
                          "null_total_bedrooms": sum(r["total_bedrooms"] is None for r in records)}))


if __name__ == "__main__":
    main()
