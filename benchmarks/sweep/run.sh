#!/usr/bin/env bash
# Batched sweeps at the library level, against PyTorch in the same run: the seed job's 16-trial grid (learning rates
# 3e-4, 1e-3, 3e-3, 1e-2 x weight decays 0, 1e-4, 1e-3, 1e-2). Each of RUNS (3) rounds starts a fresh .NET process
# (`ModelService.Benchmarks sweep-timings 1 THREADS`: one untimed round, then one seed trial alone, the 16 trials as one
# batch and the 16 trials alone one after another) and then benchmarks/peers/pytorch_sweep.py (the 16 trials one after
# another) at 1 and at 2 threads, each bounded by TORCH_TIMEOUT seconds (300; a run over it counts as missing).
# Prints every run, the medians and their ratios; PyTorch's figure is the better of its two thread counts' medians.
# Usage (from anywhere): bash benchmarks/sweep/run.sh   Environment: RUNS (3), THREADS (.NET LibTorch threads, 1),
# TORCH_TIMEOUT (300).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
RUNS=${RUNS:-3}
THREADS=${THREADS:-1}
TORCH_TIMEOUT=${TORCH_TIMEOUT:-300}
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
touch "$work/service.jsonl" "$work/torch-1.jsonl" "$work/torch-2.jsonl" "$work/ratios"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { $PY -c 'import json, sys; print("\n".join(str(json.loads(l)[sys.argv[1]]) for l in sys.stdin if l.startswith("{")))' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }

echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet build benchmarks/ModelService.Benchmarks -c Release -v q -nologo >/dev/null
for run in $(seq 1 "$RUNS"); do
    echo "== round $run (load $(cut -d' ' -f1 /proc/loadavg))"
    : >"$work/torch-round.jsonl"
    dotnet run -c Release --no-build --project benchmarks/ModelService.Benchmarks -- sweep-timings 1 "$THREADS" 2>/dev/null \
        | grep '^{' | tee -a "$work/service.jsonl"
    for threads in 1 2; do
        if line=$(cd benchmarks/peers && timeout "$TORCH_TIMEOUT" $PY pytorch_sweep.py --threads "$threads"); then
            $PY -c 'import json, sys; d = json.loads(sys.argv[1]); d.pop("trials"); print(json.dumps(d))' "$line" \
                | tee -a "$work/torch-$threads.jsonl" "$work/torch-round.jsonl"
        else
            echo "PyTorch at $threads threads did not finish within $TORCH_TIMEOUT s; not counted"
        fi
    done
    # The machine's speed drifts between rounds, so each round is also set against its own PyTorch run.
    best=$(field seconds <"$work/torch-round.jsonl" | sort -g | head -1)
    ratio "${best:-n/a}" "$(tail -1 "$work/service.jsonl" | field batched_16)" | tee -a "$work/ratios" | sed "s/^/round $run: PyTorch 16 \/ batched 16 /"
    ratio "$(tail -1 "$work/service.jsonl" | field batched_16)" "$(tail -1 "$work/service.jsonl" | field one_alone)" \
        | sed "s/^/round $run: batched 16 \/ one alone /"
done

one=$(field one_alone <"$work/service.jsonl" | median)
batched=$(field batched_16 <"$work/service.jsonl" | median)
sequential=$(field sequential_16 <"$work/service.jsonl" | median)
torch1=$(field seconds <"$work/torch-1.jsonl" | median)
torch2=$(field seconds <"$work/torch-2.jsonl" | median)
torch=$(printf '%s\n%s\n' "$torch1" "$torch2" | grep -v n/a | sort -g | head -1 || true)
torch=${torch:-n/a}
echo "== medians of $RUNS rounds (load now $(cut -d' ' -f1-3 /proc/loadavg))"
echo "one seed trial alone:        $one s ($(field one_alone <"$work/service.jsonl" | paste -sd' '))"
echo "16 trials batched:           $batched s ($(field batched_16 <"$work/service.jsonl" | paste -sd' '))"
echo "16 trials alone, in turn:    $sequential s ($(field sequential_16 <"$work/service.jsonl" | paste -sd' '))"
echo "PyTorch, 16 trials in turn:  $torch s (1 thread $torch1 s, 2 threads $torch2 s)"
echo "batched 16 / one alone:      $(ratio "$batched" "$one")"
echo "PyTorch 16 / batched 16:     $(ratio "$torch" "$batched") (median of the rounds' own ratios $(median <"$work/ratios"): $(paste -sd' ' "$work/ratios"))"
echo "alone 16 / batched 16:       $(ratio "$sequential" "$batched")"
