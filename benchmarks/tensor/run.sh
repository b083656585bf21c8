#!/usr/bin/env bash
# A per-position model on 2,000 samples of [16, 16, 4] through the API against PyTorch, same data, same machine, same
# run (issue 15's target: the API takes at most half PyTorch's wall time at equal or better test RMSE). Writes the data
# once with benchmarks/tensor/make_data.py (numpy.savez; 500 more samples for the test). Each of RUNS (3) rounds starts
# a fresh published service with an empty store, runs benchmarks/tensor/tensor_via_api.py (upload the .npz, train with
# the service's defaults and "head": "per-position", score the test samples through /api/v1/predictions) and stops it,
# then runs benchmarks/peers/pytorch_tensor.py (nn.Conv2d(k=1) 4->16->8->1 with the same settings) at 1 and at 2
# threads, each bounded by TORCH_TIMEOUT seconds (300; a run over it counts as missing). Round r trains both with seed
# 41 + r (the first round is exactly the service's defaults), so the test RMSE medians span seeds. Prints every run,
# the medians and the ratios: service / PyTorch time (target <= 0.5, PyTorch's figure the better of its two thread
# counts' medians; the service's figure both as the client saw it, submit to succeeded, and as the job's
# finishedAt - startedAt), test RMSE service / PyTorch (target <= 1), and the median of each round's own time ratio,
# since the machine's speed drifts. Each round also runs the peer once more with --draws service (1 thread, not timed
# against the service): its initial weights and shuffles drawn in the service's order, the same random numbers, so its
# test RMSE shows how much of a difference in RMSE is the draws' and how much the training's.
# Usage (from anywhere): bash benchmarks/tensor/run.sh   Environment: RUNS (3), PORT (5106), TORCH_TIMEOUT (300),
# VARIANT (conv; linear runs the peer as nn.Linear on channels-last input), SERVICE_THREADS (unset: the service's
# Training:Threads default).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
RUNS=${RUNS:-3}
PORT=${PORT:-5106}
TORCH_TIMEOUT=${TORCH_TIMEOUT:-300}
VARIANT=${VARIANT:-conv}
work=$(mktemp -d)
source "$root/benchmarks/sweep/service.sh"
trap 'stop_service; rm -rf "$work"' EXIT
touch "$work/service.jsonl" "$work/torch-1.jsonl" "$work/torch-2.jsonl" "$work/torch-same.jsonl" "$work/ratios"

echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY "$root/benchmarks/tensor/make_data.py" "$work/data"
publish_service
for run in $(seq 1 "$RUNS"); do
    echo "== round $run (load $(cut -d' ' -f1 /proc/loadavg))"
    start_service ${SERVICE_THREADS:+Training__Threads=$SERVICE_THREADS}
    seed=$((41 + run))
    $PY "$root/benchmarks/tensor/tensor_via_api.py" "$work/data" --url "$URL" --api-key benchmark-key-0123456789 --seed "$seed" | tee -a "$work/service.jsonl"
    stop_service
    peer_round PyTorch --threads torch "$TORCH_TIMEOUT" $PY pytorch_tensor.py "$work/data" --variant "$VARIANT" --seed "$seed"
    ratio "$(tail -1 "$work/service.jsonl" | field wall)" "${best:-n/a}" | tee -a "$work/ratios" | sed "s/^/round $run: service (submit to succeeded) \/ PyTorch /"
    (cd "$root/benchmarks/peers" && timeout "$TORCH_TIMEOUT" $PY pytorch_tensor.py "$work/data" --variant "$VARIANT" --seed "$seed" --draws service) \
        | tee -a "$work/torch-same.jsonl" || echo "PyTorch with the service's draws did not finish within $TORCH_TIMEOUT s"
done

seconds=$(field seconds <"$work/service.jsonl" | median)
wall=$(field wall <"$work/service.jsonl" | median)
rmse=$(field test_rmse <"$work/service.jsonl" | median)
torch1=$(field seconds <"$work/torch-1.jsonl" | median)
torch2=$(field seconds <"$work/torch-2.jsonl" | median)
torch=$(printf '%s\n%s\n' "$torch1" "$torch2" | grep -v n/a | sort -g | head -1 || true)
torch=${torch:-n/a}
torch_rmse=$(cat "$work/torch-1.jsonl" "$work/torch-2.jsonl" | field test_rmse | median)
echo "== medians of $RUNS rounds (load now $(cut -d' ' -f1-3 /proc/loadavg))"
echo "service, submit to succeeded:  $wall s ($(field wall <"$work/service.jsonl" | paste -sd' '))"
echo "service, finishedAt-startedAt: $seconds s ($(field seconds <"$work/service.jsonl" | paste -sd' '))"
echo "service upload (.npz):         $(field upload <"$work/service.jsonl" | median) s"
printf '%-31s%s\n' "PyTorch ($VARIANT):" "$torch s (1 thread: $torch1, 2 threads: $torch2)"
echo "test RMSE:                     service $rmse, PyTorch $torch_rmse"
echo "time service / PyTorch:        $(ratio "$wall" "$torch") submit to succeeded, $(ratio "$seconds" "$torch") finishedAt-startedAt (target <= 0.5; rounds' own ratios: median $(median <"$work/ratios"): $(paste -sd' ' "$work/ratios"))"
same_rmse=$(field test_rmse <"$work/torch-same.jsonl" | median)
echo "test RMSE service / PyTorch:   $(ratio "$rmse" "$torch_rmse" 4) (target <= 1; per round: service $(field test_rmse <"$work/service.jsonl" | paste -sd' '), PyTorch $(field test_rmse <"$work/torch-1.jsonl" | paste -sd' '))"
echo "PyTorch, the service's draws:  test RMSE $same_rmse ($(field test_rmse <"$work/torch-same.jsonl" | paste -sd' ')); service / it: $(ratio "$rmse" "$same_rmse" 4)"
