"""A per-position model on tensor data in PyTorch eager mode, with the service's default settings, as the speed and
quality reference for training on [N, H, W, C] inputs (benchmarks/tensor/).

Reads `train.npz` and `test.npz` written by benchmarks/tensor/make_data.py (x [N, H, W, C] float32, y [N, H, W]).
Drops samples whose target has a NaN, shuffles the rest with a generator seeded by --seed and holds out round(N * 0.2)
samples for validation; standardises each input channel and the target with the mean and (population) standard
deviation over every position of the training samples (a missing input takes the channel's mean, before the deviation
is computed, and so becomes 0); then trains nn.Conv2d(k=1) C->16 relu, 16->8 relu, 8->1 on [N, C, H, W] (or, with
--variant linear, the same stack as nn.Linear on channels-last [N, H, W, C]) with Adam 1e-3 on the mean squared error
over every position of the batch, 50 epochs of batches of 16 samples, reshuffled every epoch, the validation loss
computed after each epoch, no early stopping. With --draws service the initial weights come from the split's generator
right after the split (each layer's weight, then its bias, U(-1/sqrt(fan_in), 1/sqrt(fan_in))) and the shuffles
continue from it, which is the order in which ModelService draws them for the same seed: the same random numbers, so
the same model up to float rounding. Prints one JSON line: `seconds` from the split to the last epoch
(preprocessing and the training loop), `total_seconds` the whole process (imports and reading the archives included),
`test_rmse` over every position of the test samples in the target's units.

    /usr/bin/python3 benchmarks/peers/pytorch_tensor.py DATA_DIR [--threads 1] [--variant conv|linear] [--draws pytorch|service]
"""
import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


class ChannelsLast(nn.Module):
    """Wraps a channels-first stack so that both variants take and return channels-last tensors."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def build(variant, channels, hidden):
    layers = []
    width = channels
    for out in hidden:
        layers += [nn.Conv2d(width, out, kernel_size=1) if variant == "conv" else nn.Linear(width, out), nn.ReLU()]
        width = out
    layers.append(nn.Conv2d(width, 1, kernel_size=1) if variant == "conv" else nn.Linear(width, 1))
    stack = nn.Sequential(*layers)
    return ChannelsLast(stack) if variant == "conv" else stack


def blas():
    """The BLAS this PyTorch build calls for nn.Linear and matrix products (Debian's: the reference one, "generic")."""
    match = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return match.group(1) if match else "unknown"


def load(path):
    with np.load(path, allow_pickle=False) as archive:
        return archive["x"], archive["y"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="folder holding train.npz and test.npz")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--variant", choices=["conv", "linear"], default="conv")
    p.add_argument("--hidden", default="16,8")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--validation-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--draws", choices=["pytorch", "service"], default="pytorch",
                   help="initial weights from torch.manual_seed (PyTorch's way) or from the split's generator (the service's)")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    x, y = load(os.path.join(args.data, "train.npz"))
    x_test, y_test = load(os.path.join(args.data, "test.npz"))

    started = time.perf_counter()
    keep = ~np.isnan(y.reshape(len(y), -1)).any(axis=1)
    x, y = x[keep], y[keep]
    generator = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(len(x), generator=generator).numpy()
    n_val = int(round(len(x) * args.validation_fraction)) if args.validation_fraction > 0 else 0
    val_idx, train_idx = order[:n_val], order[n_val:]

    train_x = x[train_idx].astype(np.float64)
    x_mean = np.nanmean(train_x, axis=(0, 1, 2))
    x_std = np.where(np.isnan(train_x), x_mean, train_x).std(axis=(0, 1, 2))
    x_std[x_std == 0] = 1.0
    y_mean, y_std = y[train_idx].mean(), y[train_idx].std()
    y_std = y_std if y_std > 0 else 1.0

    def features(a):
        return torch.from_numpy(np.nan_to_num((a - x_mean) / x_std, nan=0.0).astype(np.float32))

    def target(b):
        return torch.from_numpy(((b - y_mean) / y_std).astype(np.float32))

    x_train, y_train = features(x[train_idx]), target(y[train_idx])
    x_val, y_val = features(x[val_idx]), target(y[val_idx])
    torch.manual_seed(args.seed)
    model = build(args.variant, x.shape[-1], [int(h) for h in args.hidden.split(",")])
    if args.draws == "service":
        with torch.no_grad():
            for layer in (m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))):
                bound = 1 / math.sqrt(layer.weight[0].numel())
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    loss_fn = nn.MSELoss()

    for _ in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for i in range(0, len(perm), args.batch_size):
            b = perm[i:i + args.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[b]).squeeze(-1), y_train[b])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(b)
        train_loss = total / len(perm)
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(x_val).squeeze(-1), y_val).item() if n_val else None
    seconds = time.perf_counter() - started

    with torch.no_grad():
        pred = model(features(x_test)).squeeze(-1).numpy().astype(np.float64) * y_std + y_mean
    rmse = float(np.sqrt(np.mean((pred - y_test) ** 2)))
    print(json.dumps({
        "peer": "pytorch", "job": "tensor-per-position", "variant": args.variant, "threads": args.threads,
        "seed": args.seed, "draws": args.draws, "samples": int(len(x)), "shape": list(x.shape[1:]), "train_samples": int(len(train_idx)),
        "validation_samples": int(n_val), "epochs": args.epochs, "seconds": round(seconds, 3),
        "total_seconds": round(time.perf_counter() - START, 3), "test_rmse": round(rmse, 5),
        "train_loss": round(train_loss, 6), "validation_loss": None if val_loss is None else round(val_loss, 6),
        "torch": torch.__version__, "blas": blas()}), flush=True)


if __name__ == "__main__":
    main()
