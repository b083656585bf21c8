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

from api_client import Client

TARGET = "median_house_value"
CATEGORICAL = {"ocean_proximity"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--seeds", default="0,1,2,3,4")
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
    records = [
        {name: None if r[j] == "" else (r[j] if name in CATEGORICAL else float(r[j]))
         for j, name in enumerate(header) if j != target}
        for r in test
    ]
    truth = [float(r[target]) for r in test]

    for seed in (int(s) for s in args.seeds.split(",")):
        seconds, rmse = client.train_and_score({
            "datasetId": dataset["id"], "target": TARGET, "hiddenChannels": [64, 64], "epochs": 20,
            "batchSize": 64, "learningRate": 0.001, "validationFraction": 0, "seed": seed, "activate": False,
        }, records, truth, poll_seconds=0.1)
        print(json.dumps({"service": "modelservice", "job": "california", "seed": seed, "seconds": round(seconds, 3),
                          "test_rmse": round(rmse, 1), "train_rows": len(train), "test_rows": len(test),
                          "null_total_bedrooms": sum(r["total_bedrooms"] is None for r in records)}))


if __name__ == "__main__":
    main()
