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
import json

from api_client import CALIFORNIA_TARGET, Client, upload_california


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--url", default="http://localhost:5000")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--api-key")
    args = parser.parse_args()

    client = Client(args.url, args.api_key)
    dataset, records, truth, train_rows = upload_california(client, args.csv)

    for seed in (int(s) for s in args.seeds.split(",")):
        seconds, rmse = client.train_and_score({
            "datasetId": dataset["id"], "target": CALIFORNIA_TARGET, "hiddenChannels": [64, 64], "epochs": 20,
            "batchSize": 64, "learningRate": 0.001, "validationFraction": 0, "seed": seed, "activate": False,
        }, records, truth, poll_seconds=0.1)
        print(json.dumps({"service": "modelservice", "job": "california", "seed": seed, "seconds": round(seconds, 3),
                          "test_rmse": round(rmse, 1), "train_rows": train_rows, "test_rows": len(records),
                          "null_total_bedrooms": sum(r["total_bedrooms"] is None for r in records)}))


if __name__ == "__main__":
    main()
