#!/usr/bin/env bash
# California housing (the shared CSV, raw): the service's sweep against scikit-learn's GridSearchCV over MLPRegressor,
# same grid (2 architectures x 3 learning rates x 2 weight decays, 3-fold CV, 20 epochs, batch 64), same split, same
# machine, same run. Each of RUNS (3) rounds starts a fresh published service, runs benchmarks/sweep/california_via_api.py
# and stops it, then benchmarks/peers/sklearn_gridsearch_california.py with n_jobs 1 and 2 (each bounded by
# PEER_TIMEOUT seconds, 900). Prints every run and the medians: the best trial's test RMSE (target: at or below the
# peer's) and wall time (target: less than the peer's better n_jobs), and each round's own time ratio. Round r uses seed
# r - 1 + FIRST_SEED on both sides (folds, initial weights, shuffles): a seed's RMSE is deterministic, so the rounds show how much of a
# difference in RMSE is the seed's.
# The service's base uses "learningRateSchedule": SCHEDULE (cosine; scikit-learn's MLPRegressor has no schedule for Adam,
# so its peer runs as it is); SCHEDULE=constant gives both sides a constant learning rate.
# Usage (from anywhere): bash benchmarks/sweep/california.sh   Environment: RUNS (3), PORT (5105), PEER_TIMEOUT (900),
# CSV (../shared/data/california_housing.csv), SCHEDULE (cosine), FIRST_SEED (0).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
RUNS=${RUNS:-3}
PORT=${PORT:-5105}
PEER_TIMEOUT=${PEER_TIMEOUT:-900}
SCHEDULE=${SCHEDULE:-cosine}
FIRST_SEED=${FIRST_SEED:-0}
CSV=$(realpath "${CSV:-../shared/data/california_housing.csv}")
work=$(mktemp -d)
source "$root/benchmarks/sweep/service.sh"
trap 'stop_service; rm -rf "$work"' EXIT
touch "$work/service.jsonl" "$work/peer-1.jsonl" "$work/peer-2.jsonl" "$work/ratios"

echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
publish_service
for run in $(seq 1 "$RUNS"); do
    echo "== round $run (load $(cut -d' ' -f1 /proc/loadavg))"
    start_service
    $PY "$root/benchmarks/sweep/california_via_api.py" "$CSV" --url "$URL" --api-key benchmark-key-0123456789 --seed $((run - 1 + FIRST_SEED)) --schedule "$SCHEDULE" | tee -a "$work/service.jsonl"
    stop_service
    peer_round GridSearchCV --jobs peer "$PEER_TIMEOUT" $PY sklearn_gridsearch_california.py "$CSV" --seed $((run - 1 + FIRST_SEED))
    ratio "$(tail -1 "$work/service.jsonl" | field seconds)" "${best:-n/a}" | tee -a "$work/ratios" | sed "s/^/round $run: sweep \/ GridSearchCV time /"
done

seconds=$(field seconds <"$work/service.jsonl" | median)
rmse=$(field test_rmse <"$work/service.jsonl" | median)
peer1=$(field seconds <"$work/peer-1.jsonl" | median)
peer2=$(field seconds <"$work/peer-2.jsonl" | median)
peer=$(printf '%s\n%s\n' "$peer1" "$peer2" | grep -v n/a | sort -g | head -1 || true)
peer_rmse=$(field test_rmse <"$work/peer-1.jsonl" | median)
echo "== medians of $RUNS rounds (load now $(cut -d' ' -f1-3 /proc/loadavg))"
echo "service sweep ($SCHEDULE): $seconds s ($(field seconds <"$work/service.jsonl" | paste -sd' ')), best trial's test RMSE $rmse ($(field test_rmse <"$work/service.jsonl" | paste -sd' '))"
echo "GridSearchCV:     ${peer:-n/a} s (n_jobs 1: $peer1 s, n_jobs 2: $peer2 s), best's test RMSE $peer_rmse ($(field test_rmse <"$work/peer-1.jsonl" | paste -sd' '))"
echo "test RMSE sweep / GridSearchCV: $(ratio "$rmse" "$peer_rmse" 4) (target <= 1)"
echo "time sweep / GridSearchCV:      $(ratio "$seconds" "${peer:-n/a}") (target < 1; rounds' own ratios: median $(median <"$work/ratios"): $(paste -sd' ' "$work/ratios"))"
