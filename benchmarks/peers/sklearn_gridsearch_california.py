"""California housing: scikit-learn's GridSearchCV over MLPRegressor, the peer of benchmarks/sweep/california.sh.

The grid of the service's sweep: hidden layers (32, 32) and (64, 64) x learning rates 3e-4, 1e-3, 3e-3 x L2 penalty
(alpha) 0 and 1e-4; 20 epochs, batch 64, Adam, 3-fold cross-validation (shuffled, seed 0), ranked by RMSE, the best
refitted on every training row (GridSearchCV's refit). Preprocessing as the service's (benchmarks/peers/california.py:
median impute and standardise, one-hot ocean_proximity) and the target standardised (TransformedTargetRegressor), as the
service trains. Prints one JSON line: `seconds` is GridSearchCV.fit (every fold and the refit), `test_rmse` the refitted
best model's on the rows whose index % 5 == 0.
Usage: /usr/bin/python3 sklearn_gridsearch_california.py /path/to/california_housing.csv [--jobs 1] [--threads 1]
"""
import argparse
import json
import os
import time
import warnings

# GridSearchCV's worker processes (n_jobs > 1) read their warning filters from the environment.
os.environ["PYTHONWARNINGS"] = "ignore::UserWarning"

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from california import load_split, preprocessor

ARCHITECTURES = [(32, 32), (64, 64)]
LEARNING_RATES = [3e-4, 1e-3, 3e-3]
PENALTIES = [0.0, 1e-4]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("csv")
    p.add_argument("--jobs", type=int, default=1, help="GridSearchCV n_jobs (processes)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads per process")
    p.add_argument("--epochs", type=int, default=20, help="epochs (max_iter) of every fit")
    p.add_argument("--seed", type=int, default=0, help="random_state of the folds and the networks")
    args = p.parse_args()
    x_train, y_train, x_test, y_test = load_split(args.csv)
    pipe = make_pipeline(preprocessor(x_train.columns),
                         MLPRegressor(max_iter=args.epochs, batch_size=64, random_state=args.seed, early_stopping=False))
    model = TransformedTargetRegressor(regressor=pipe, transformer=StandardScaler())
    grid = {
        "regressor__mlpregressor__hidden_layer_sizes": ARCHITECTURES,
        "regressor__mlpregressor__learning_rate_init": LEARNING_RATES,
        "regressor__mlpregressor__alpha": PENALTIES,
    }
    search = GridSearchCV(model, grid, cv=KFold(3, shuffle=True, random_state=args.seed), scoring="neg_root_mean_squared_error",
                          refit=True, n_jobs=args.jobs)
    with warnings.catch_warnings(), threadpool_limits(args.threads):
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        search.fit(x_train, y_train)
        seconds = time.perf_counter() - started
    rmse = float(np.sqrt(np.mean((search.predict(x_test) - y_test) ** 2)))
    best = {k.split("__")[-1]: v for k, v in search.best_params_.items()}
    print(json.dumps({"peer": "sklearn-gridsearchcv", "jobs": args.jobs, "threads": args.threads, "epochs": args.epochs, "seed": args.seed, "seconds": round(seconds, 3),
                      "test_rmse": round(rmse, 1), "best_cv_rmse": round(-search.best_score_, 1), "best": best}), flush=True)


if __name__ == "__main__":
    main()
