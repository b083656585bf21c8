"""The service's seed job in PyTorch eager mode, as a speed and quality reference.

1000 synthetic rows x ~ U[0,1)^2, y = 500000*x0 + 100000*x1; features and target standardised on the training
rows (as the service's preprocessor does); 1x1 conv 2->16 relu, 16->8 relu, flatten, dense 8->1 on input
[N,2,1,1] (or the equivalent Linear stack with --variant linear); Adam 1e-3, MSE, 50 epochs, batch 16,
shuffled, validation fraction 0.2 with the validation loss computed every epoch. Prints one JSON line.
"""
import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def make_rows(rng, n):
    x = rng.random((n, 2), dtype=np.float64)
    return x, 500000.0 * x[:, 0] + 100000.0 * x[:, 1]


def build(variant):
    if variant == "conv":
        return nn.Sequential(
            nn.Conv2d(2, 16, kernel_size=1), nn.ReLU(),
            nn.Conv2d(16, 8, kernel_size=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(8, 1))
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 1))


def shape_input(x, variant):
    t = torch.from_numpy(x.astype(np.float32))
    return t.reshape(-1, 2, 1, 1) if variant == "conv" else t


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--variant", choices=["conv", "linear"], default="conv")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--validation-fraction", type=float, default=0.2)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x, y = make_rows(rng, args.rows)
    order = rng.permutation(args.rows)
    n_val = int(round(args.rows * args.validation_fraction))
    val_idx, train_idx = order[:n_val], order[n_val:]
    x_mean, x_std = x[train_idx].mean(0), x[train_idx].std(0)
    y_mean, y_std = y[train_idx].mean(), y[train_idx].std()

    def features(a):
        return shape_input((a - x_mean) / x_std, args.variant)

    def target(b):
        return torch.from_numpy(((b - y_mean) / y_std).astype(np.float32)).reshape(-1, 1)

    x_train, y_train = features(x[train_idx]), target(y[train_idx])
    x_val, y_val = features(x[val_idx]), target(y[val_idx])
    model = build(args.variant)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    generator = torch.Generator().manual_seed(args.seed)

    train_start = time.perf_counter()
    for _ in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for i in range(0, len(perm), args.batch_size):
            b = perm[i:i + args.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[b]), y_train[b])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(b)
        train_loss = total / len(perm)
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(x_val), y_val).item() if n_val else None
    train_seconds = time.perf_counter() - train_start

    x_test, y_test = make_rows(np.random.default_rng(args.seed + 1), 1000)
    with torch.no_grad():
        pred = model(features(x_test)).numpy().ravel() * y_std + y_mean
    rmse = float(np.sqrt(np.mean((pred - y_test) ** 2)))
    print(json.dumps({
        "peer": "pytorch", "job": "seed", "variant": args.variant, "threads": args.threads, "seed": args.seed,
        "seconds": round(train_seconds, 3), "total_seconds": round(time.perf_counter() - START, 3),
        "test_rmse": round(rmse, 1), "train_loss": round(train_loss, 6),
        "validation_loss": None if val_loss is None else round(val_loss, 6), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
