#!/usr/bin/env python3
"""A per-position model on tensor data through a running ModelService, the way a client would train one.

Uploads `train.npz` (written by make_data.py) as it is, `Content-Type: application/x-npz`, submits a training job that
names only the dataset and `"head": "per-position"` (every other setting is the service's default, which the job's
filled-in request must show to equal the settings of benchmarks/peers/pytorch_tensor.py), polls it until it succeeds,
and scores `test.npz` through `POST /api/v1/predictions` as nested [N, H, W, C] `instances` (an [H, W] array of
predictions per sample comes back). Prints one JSON line: `seconds` is the job's finishedAt - startedAt (the training
the service does), `wall` submit to succeeded as the client saw it, `upload` the dataset upload, `test_rmse` over every
position of the test samples, and the model's validation RMSE.

    /usr/bin/python3 benchmarks/tensor/tensor_via_api.py DATA_DIR --url http://127.0.0.1:5106 [--api-key KEY]
"""
import argparse
import json
import math
import os
import sys
import time
from datetime import datetime

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "quality"))
from api_client import Client  # noqa: E402

# The peer's settings (benchmarks/peers/pytorch_tensor.py), which the service's defaults must equal.
PEER_SETTINGS = {"hiddenChannels": [16, 8], "activation": "relu", "dropout": 0.0, "batchNorm": False, "epochs": 50,
                 "batchSize": 16, "learningRate": 0.001, "optimizer": "adam", "weightDecay": 0.0,
                 "validationFraction": 0.2, "earlyStoppingPatience": None, "seed": 42}
SAMPLES_PER_REQUEST = 100


def trained_seconds(item):
    return (datetime.fromisoformat(item["finishedAt"]) - datetime.fromisoformat(item["startedAt"])).total_seconds()


def check_defaults(request, seed):
    expected = PEER_SETTINGS if seed is None else {**PEER_SETTINGS, "seed": seed}
    differing = {k: (request.get(k), v) for k, v in expected.items() if request.get(k) != v}
    if differing:
        raise SystemExit(f"the job's settings differ from the peer's (job, peer): {differing}")


def test_rmse(client, model_id, x, y):
    squares = 0.0
    for start in range(0, len(x), SAMPLES_PER_REQUEST):
        batch = x[start:start + SAMPLES_PER_REQUEST]
        body = json.dumps({"modelId": model_id, "instances": batch.tolist()}).encode()
        predictions = np.asarray(client.call("POST", "/api/v1/predictions", body)["predictions"], dtype=np.float64)
        truth = y[start:start + SAMPLES_PER_REQUEST]
        if predictions.shape != truth.shape:
            raise SystemExit(f"predictions have shape {list(predictions.shape)}, expected {list(truth.shape)}")
        squares += float(np.sum((predictions - truth) ** 2))
    return math.sqrt(squares / y.size)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="folder holding train.npz and test.npz")
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key")
    parser.add_argument("--seed", type=int, help="sent as the job's seed (the peer's --seed); default: the service's")
    args = parser.parse_args()
    client = Client(args.url, args.api_key)

    with open(os.path.join(args.data, "train.npz"), "rb") as f:
        archive = f.read()
    started = time.perf_counter()
    dataset = client.call("POST", "/api/v1/datasets?name=tensor-train", archive, "application/x-npz")
    upload = time.perf_counter() - started
    if dataset.get("kind") != "tensor":
        raise SystemExit(f"the upload is not a tensor dataset: {dataset}")

    started = time.perf_counter()
    request = {"datasetId": dataset["id"], "head": "per-position", "activate": False}
    if args.seed is not None:
        request["seed"] = args.seed
    job = client.call("POST", "/api/v1/training-jobs", json.dumps(request).encode())
    job = client.wait(f"/api/v1/training-jobs/{job['id']}", poll_seconds=0.01)
    wall = time.perf_counter() - started
    check_defaults(job["request"], args.seed)

    model = client.call("GET", f"/api/v1/models/{job['modelId']}")
    with np.load(os.path.join(args.data, "test.npz"), allow_pickle=False) as test:
        rmse = test_rmse(client, job["modelId"], test["x"], test["y"])
    validation = (model.get("metrics") or {}).get("validation") or {}
    training = model.get("training") or {}
    print(json.dumps({
        "service": "modelservice", "job": "tensor-per-position", "seed": job["request"]["seed"],
        "seconds": round(trained_seconds(job), 3), "wall": round(wall, 3), "upload": round(upload, 3),
        "upload_bytes": len(archive), "samples": dataset["rowCount"],
        "shape": dataset.get("shape"), "train_rows": training.get("trainRows"),
        "validation_rows": training.get("validationRows"), "epochs": training.get("epochs"),
        "test_rmse": round(rmse, 5), "validation_rmse": validation.get("rmse")}), flush=True)


if __name__ == "__main__":
    main()
