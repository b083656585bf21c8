#!/usr/bin/env bash
# Sweeps through the API against one job and against PyTorch, same machine, same run: the seed job's 16-trial grid
# (learning rates 3e-4, 1e-3, 3e-3, 1e-2 x weight decays 0, 1e-4, 1e-3, 1e-2). Each of RUNS (3) rounds starts a fresh
# published service with an empty store, runs benchmarks/sweep/sweep_via_api.py (a seed job, the sweep through
# POST /api/v1/sweeps, a seed job; each timed finishedAt - startedAt) and stops it, then runs
# benchmarks/peers/pytorch_sweep.py (the 16 trials one after another) at 1 and at 2 threads, each bounded by
# TORCH_TIMEOUT seconds (300; a run over it counts as missing). Prints every run, the medians and the ratios
# (sweep / one job: target <= 2; PyTorch / sweep: target >= 8, PyTorch's figure the better of its two thread counts),
# and the median of each round's own ratios, since the machine's speed drifts between rounds.
# Usage (from anywhere): bash benchmarks/sweep/run.sh   Environment: RUNS (3), PORT (5104), TORCH_TIMEOUT (300).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
RUNS=${RUNS:-3}
PORT=${PORT:-5104}
TORCH_TIMEOUT=${TORCH_TIMEOUT:-300}
work=$(mktemp -d)
source "$root/benchmarks/sweep/service.sh"
trap 'stop_service; rm -rf "$work"' EXIT
touch "$work/service.jsonl" "$work/torch-1.jsonl" "$work/torch-2.jsonl" "$work/ratios-torch" "$work/ratios-job"

echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
publish_service
for run in $(seq 1 "$RUNS"); do
    echo "== round $run (load $(cut -d' ' -f1 /proc/loadavg))"
    start_service
    $PY "$root/benchmarks/sweep/sweep_via_api.py" --url "$URL" --api-key benchmark-key-0123456789 | tee -a "$work/service.jsonl"
    stop_service
    : >"$work/torch-round.jsonl"
    for threads in 1 2; do
        if line=$(cd "$root/benchmarks/peers" && timeout "$TORCH_TIMEOUT" $PY pytorch_sweep.py --threads "$threads"); then
            $PY -c 'import json, sys; d = json.loads(sys.argv[1]); d.pop("trials"); print(json.dumps(d))' "$line" \
                | tee -a "$work/torch-$threads.jsonl" "$work/torch-round.jsonl"
        else
            echo "PyTorch at $threads threads did not finish within $TORCH_TIMEOUT s; not counted"
        fi
    done
    sweep=$(tail -1 "$work/service.jsonl" | field sweep)
    best=$(field seconds <"$work/torch-round.jsonl" | sort -g | head -1)
    ratio "$sweep" "$(tail -1 "$work/service.jsonl" | field job)" | tee -a "$work/ratios-job" | sed "s/^/round $run: sweep \/ one job /"
    ratio "${best:-n/a}" "$sweep" | tee -a "$work/ratios-torch" | sed "s/^/round $run: PyTorch 16 \/ sweep /"
done

job=$(field job <"$work/service.jsonl" | median)
sweep=$(field sweep <"$work/service.jsonl" | median)
torch1=$(field seconds <"$work/torch-1.jsonl" | median)
torch2=$(field seconds <"$work/torch-2.jsonl" | median)
torch=$(printf '%s\n%s\n' "$torch1" "$torch2" | grep -v n/a | sort -g | head -1 || true)
torch=${torch:-n/a}
echo "== medians of $RUNS rounds (load now $(cut -d' ' -f1-3 /proc/loadavg))"
echo "one seed job (API):          $job s ($(field job <"$work/service.jsonl" | paste -sd' '))"
echo "16-trial sweep (API):        $sweep s ($(field sweep <"$work/service.jsonl" | paste -sd' '))"
echo "PyTorch, 16 trials in turn:  $torch s (1 thread $torch1 s, 2 threads $torch2 s)"
echo "sweep / one job:             $(ratio "$sweep" "$job") (target <= 2; rounds' own ratios: median $(median <"$work/ratios-job"): $(paste -sd' ' "$work/ratios-job"))"
echo "PyTorch 16 / sweep:          $(ratio "$torch" "$sweep") (target >= 8; rounds' own ratios: median $(median <"$work/ratios-torch"): $(paste -sd' ' "$work/ratios-torch"))"
