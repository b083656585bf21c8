"""Writes the tensor dataset fixtures the API tests upload, with NumPy's own writers.

Run from this folder with a Python that has NumPy: /usr/bin/python3 make_tensor_fixtures.py
The values are formulas of the indices, so the tests can recompute them:
  tensor_savez.npz             numpy.savez: x float32 [3, 4, 5, 2] = n + h/10 + w/100 + c/1000, x[1, 2, 3, 1] = NaN;
                               y float64 [3, 4, 5] = 3 * x[..., 0] - 2 * x[..., 1] (per position), y[2, 0, 0] = NaN
  tensor_savez_compressed.npz  numpy.savez_compressed (deflated): x float64 [4, 2, 2, 3] = n - h + w * c;
                               y float32 [4] = n * 1.5 (per sample)
"""
import numpy as np

n, h, w, c = np.indices((3, 4, 5, 2))
x = (n + h / 10 + w / 100 + c / 1000).astype(np.float32)
y = 3.0 * x[..., 0].astype(np.float64) - 2.0 * x[..., 1].astype(np.float64)
x[1, 2, 3, 1] = np.nan
y[2, 0, 0] = np.nan
np.savez("tensor_savez.npz", x=x, y=y)

n, h, w, c = np.indices((4, 2, 2, 3))
x = (n - h + w * c).astype(np.float64)
y = (np.arange(4) * 1.5).astype(np.float32)
np.savez_compressed("tensor_savez_compressed.npz", x=x, y=y)
