"""The seed job's 16-trial grid in PyTorch eager mode, trained one trial after another, as a speed reference for
batched sweeps.

The seed job of pytorch_seed.py (1000 rows, 1x1 conv 2->16->8 relu, dense 8->1, Adam, MSE on the standardised
target, 50 epochs, batch 16, validation fraction 0.2 with the validation loss every epoch, seed 42) for every pair of
learning rate (3e-4, 1e-3, 3e-3, 1e-2) and weight decay (0, 1e-4, 1e-3, 1e-2; Adam's L2 form, as the service's adam).
Prints one JSON line: `seconds` is the sum of the 16 training loops, and each trial's final validation loss.
"""
import argparse
import json
import time

import numpy as np
import torch
from torch import nn

from pytorch_seed import build, make_rows, shape_input

LEARNING_RATES = [3e-4, 1e-3, 3e-3, 1e-2]
WEIGHT_DECAYS = [0.0, 1e-4, 1e-3, 1e-2]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=16)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    x, y = make_rows(rng, 1000)
    order = rng.permutation(1000)
    val_idx, train_idx = order[:200], order[200:]
    x_mean, x_std = x[train_idx].mean(0), x[train_idx].std(0)
    y_mean, y_std = y[train_idx].mean(), y[train_idx].std()
    x_train = shape_input((x[train_idx] - x_mean) / x_std, "conv")
    x_val = shape_input((x[val_idx] - x_mean) / x_std, "conv")
    y_train = torch.from_numpy(((y[train_idx] - y_mean) / y_std).astype(np.float32)).reshape(-1, 1)
    y_val = torch.from_numpy(((y[val_idx] - y_mean) / y_std).astype(np.float32)).reshape(-1, 1)
    loss_fn = nn.MSELoss()

    trials = []
    seconds = 0.0
    for lr in LEARNING_RATES:
        for wd in WEIGHT_DECAYS:
            torch.manual_seed(args.seed)
            model = build("conv")
            optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
            generator = torch.Generator().manual_seed(args.seed)
            start = time.perf_counter()
            for _ in range(args.epochs):
                model.train()
                perm = torch.randperm(len(x_train), generator=generator)
                for i in range(0, len(perm), args.batch_size):
                    b = perm[i:i + args.batch_size]
                    optimizer.zero_grad()
                    loss = loss_fn(model(x_train[b]), y_train[b])
                    loss.backward()
                    optimizer.step()
                model.eval()
                with torch.no_grad():
                    val_loss = loss_fn(model(x_val), y_val).item()
            seconds += time.perf_counter() - start
            trials.append({"learning_rate": lr, "weight_decay": wd, "validation_loss": round(val_loss, 6)})
    print(json.dumps({"peer": "pytorch", "job": "seed-grid-16", "threads": args.threads, "seconds": round(seconds, 3),
                      "trials": trials, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
