"""California housing with scikit-learn's MLPRegressor: 64-64 relu, 20 epochs, batch 64, Adam 1e-3.

Prints one JSON line per seed and target handling: with the target standardised (TransformedTargetRegressor,
as the service trains) and on the raw target. "seconds" is the fit (preprocessing fit included).
Usage: /usr/bin/python3 sklearn_california.py /path/to/california_housing.csv [--seeds 0,1,2,3,4] [--threads 1]
"""
import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.compose import TransformedTargetRegressor  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from california import load_split, preprocessor  # noqa: E402


def model(columns, seed, scale_target):
    mlp = MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=20, batch_size=64, learning_rate_init=1e-3,
                       random_state=seed)
    pipe = make_pipeline(preprocessor(columns), mlp)
    return TransformedTargetRegressor(regressor=pipe, transformer=StandardScaler()) if scale_target else pipe


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("csv")
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    x_train, y_train, x_test, y_test = load_split(args.csv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # 20 epochs is the budget by design
    with threadpool_limits(limits=args.threads):
        for scale_target in (True, False):
            for seed in (int(s) for s in args.seeds.split(",")):
                m = model(x_train.columns, seed, scale_target)
                t = time.perf_counter()
                m.fit(x_train, y_train)
                seconds = time.perf_counter() - t
                rmse = float(np.sqrt(np.mean((m.predict(x_test) - y_test) ** 2)))
                print(json.dumps({
                    "peer": "sklearn", "job": "california", "target_scaling": scale_target, "threads": args.threads,
                    "seed": seed, "seconds": round(seconds, 3), "test_rmse": round(rmse, 1),
                    "train_rows": len(y_train), "test_rows": len(y_test), "sklearn": sklearn.__version__}),
                    flush=True)
    print(json.dumps({"peer": "sklearn", "job": "california", "total_seconds": round(time.perf_counter() - START, 3)}))


if __name__ == "__main__":
    main()
