"""California housing in PyTorch eager mode: 64-64 relu, 20 epochs, batch 64, Adam 1e-3, MSE on the standardised
target, trained on every training row (no validation split). --variant conv uses 1x1 convolutions on [N,C,1,1]
as the service does; linear the equivalent Linear stack. Prints one JSON line per thread count and seed;
"seconds" is the training loop only.
Usage: /usr/bin/python3 pytorch_california.py /path/to/california_housing.csv [--threads 1,2] [--seeds 0,1,2,3,4]
"""
import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from california import load_split, preprocessor  # noqa: E402


def build(variant, width):
    if variant == "conv":
        return nn.Sequential(
            nn.Conv2d(width, 64, kernel_size=1), nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(64, 1))
    return nn.Sequential(nn.Linear(width, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))


def run(x_train, y_train, x_test, y_test, seed, threads, variant, epochs, batch_size):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    y_mean, y_std = y_train.mean(), y_train.std()
    shape = (-1, x_train.shape[1], 1, 1) if variant == "conv" else (-1, x_train.shape[1])
    xt = torch.from_numpy(x_train.astype(np.float32)).reshape(shape)
    yt = torch.from_numpy(((y_train - y_mean) / y_std).astype(np.float32)).reshape(-1, 1)
    model = build(variant, x_train.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=generator)
        for i in range(0, len(perm), batch_size):
            b = perm[i:i + batch_size]
            optimizer.zero_grad()
            loss_fn(model(xt[b]), yt[b]).backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test.astype(np.float32)).reshape(shape)).numpy().ravel() * y_std + y_mean
    return seconds, float(np.sqrt(np.mean((pred - y_test) ** 2)))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("csv")
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--variant", choices=["conv", "linear"], default="conv")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args()
    x_train, y_train, x_test, y_test = load_split(args.csv)
    prep = preprocessor(x_train.columns).fit(x_train)
    x_train, x_test = prep.transform(x_train), prep.transform(x_test)
    for threads in (int(t) for t in args.threads.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            seconds, rmse = run(x_train, y_train, x_test, y_test, seed, threads, args.variant,
                                args.epochs, args.batch_size)
            print(json.dumps({
                "peer": "pytorch", "job": "california", "variant": args.variant, "threads": threads, "seed": seed,
                "seconds": round(seconds, 3), "test_rmse": round(rmse, 1), "train_rows": len(y_train),
                "test_rows": len(y_test), "torch": torch.__version__}), flush=True)
    print(json.dumps({"peer": "pytorch", "job": "california", "variant": args.variant,
                      "total_seconds": round(time.perf_counter() - START, 3)}))


if __name__ == "__main__":
    main()
