#!/usr/bin/env python3
"""Writes the tensor benchmark's data as NumPy archives: x [N, 16, 16, 4] float32 (channels last) and a per-position
target y [N, 16, 16] float64, y = 3*band0 - 2*band1 + noise at every position (bands 2 and 3 carry no signal).

The bands have their own scales and offsets (band0 ~ N(5, 2), band1 ~ U(0, 10), band2 ~ N(-100, 30), band3 ~ U(0, 1)),
so the per-channel standardisation a model fits matters; noise ~ N(0, 0.5), so a model that learns the target has a
test RMSE near 0.5. `train.npz` holds --samples (2,000) samples drawn with --seed, `test.npz` --test-samples (500) more
from the next draws of the same generator. Written with numpy.savez (stored zip entries x.npy and y.npy).

    /usr/bin/python3 benchmarks/tensor/make_data.py OUT_DIR [--samples 2000] [--test-samples 500] [--seed 15]
"""
import argparse
import json
import os

import numpy as np

HEIGHT, WIDTH, CHANNELS = 16, 16, 4
NOISE = 0.5


def draw(rng, n):
    x = np.empty((n, HEIGHT, WIDTH, CHANNELS), dtype=np.float32)
    x[..., 0] = rng.normal(5.0, 2.0, (n, HEIGHT, WIDTH))
    x[..., 1] = rng.uniform(0.0, 10.0, (n, HEIGHT, WIDTH))
    x[..., 2] = rng.normal(-100.0, 30.0, (n, HEIGHT, WIDTH))
    x[..., 3] = rng.uniform(0.0, 1.0, (n, HEIGHT, WIDTH))
    # The target is computed from the float32 values the archive holds, so it is exact for what a model sees.
    band0, band1 = x[..., 0].astype(np.float64), x[..., 1].astype(np.float64)
    y = 3.0 * band0 - 2.0 * band1 + rng.normal(0.0, NOISE, (n, HEIGHT, WIDTH))
    return x, y


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--test-samples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for name, n in (("train", args.samples), ("test", args.test_samples)):
        x, y = draw(rng, n)
        path = os.path.join(args.out, f"{name}.npz")
        np.savez(path, x=x, y=y)
        print(json.dumps({"file": path, "x": list(x.shape), "y": list(y.shape), "bytes": os.path.getsize(path)}))


if __name__ == "__main__":
    main()
