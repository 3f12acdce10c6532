#!/usr/bin/env bash
# sweep.sh: the benchmarks of bench/results/ml.md. Builds the train and moe
# examples and runs
#   train: default and larger model, at 1 and 2 ranks, REPS times each
#   moe:   static and dynamic placement (run back to back, so their ratio is
#          taken under the same machine load), at 2 and 4 ranks, over the Zipf
#          exponents ZIPFS, for the default layer (8 experts, top-2), top-1 routing,
#          and 4 experts with top-1
# and prints medians as Markdown tables. Raw JSON lines go to $OUT (default
# $TMPDIR/spmd-ml-bench.jsonl). Needs mpirun and jq.
#
#   bench/ml/sweep.sh                 # REPS=3 ZIPFS="0 0.8 1.2 1.6"
#
# imbalance: max/mean busy time (task bodies) per rank; token imbalance:
# max/mean tokens per rank in the plan (independent of the machine load).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${REPS:-3}
ZIPFS=${ZIPFS:-"0 0.8 1.2 1.6"}
OUT=${OUT:-${TMPDIR:-/tmp}/spmd-ml-bench.jsonl}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/train" ./cmd/mpirun-examples/train
go build -o "$BIN/moe" ./cmd/mpirun-examples/moe
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1
run() { # np, program, args...
	local np=$1; shift
	local extra=()
	[ "$(id -u)" = 0 ] && extra=(--allow-run-as-root)
	mpirun "${extra[@]}" --oversubscribe -np "$np" "$@" -json
}
: >"$OUT"
for rep in $(seq "$REPS"); do
	for model in "-hidden 128 -batch 256" "-hidden 256 -batch 512"; do
		for np in 1 2; do
			# shellcheck disable=SC2086
			run "$np" "$BIN/train" -epochs 3 $model | jq -c --arg m "$model" '. + {bench: "train", model: $m}' >>"$OUT"
		done
	done
	for layer in "-topk 2" "-topk 1" "-experts 4 -topk 1"; do
		for np in 2 4; do
			for z in $ZIPFS; do
				for pl in static dynamic; do
					# shellcheck disable=SC2086
					run "$np" "$BIN/moe" -placement "$pl" -zipf "$z" $layer | jq -c --arg l "$layer" '. + {bench: "moe", layer: $l}' >>"$OUT"
				done
			done
		done
	done
done

echo "## train (median of $REPS; epoch seconds = median epoch of each run)"
echo
echo "| model | ranks | s/epoch | hidden fraction | comm s | final loss | accuracy |"
echo "|---|---|---|---|---|---|---|"
jq -rs 'def med: sort | .[length/2|floor];
	map(select(.bench=="train")) | group_by([.model,.ranks])[] |
	"| \(.[0].model) | \(.[0].ranks) | \(map(.median_epoch_seconds)|med|.*1000|round/1000) | \(map(.hidden_fraction)|med|.*100|round/100) | \(map(.comm_seconds)|med|.*1000|round/1000) | \(.[0].loss[-1]|.*1e6|round/1e6) | \(.[0].accuracy) |"' "$OUT"
echo
echo "## moe (median of $REPS; speedup = median over runs of static step / dynamic step of the same repetition)"
echo
echo "| layer | ranks | zipf | static s/step | dynamic s/step | speedup | static imbalance | dynamic imbalance | static token imbalance | dynamic token imbalance |"
echo "|---|---|---|---|---|---|---|---|---|---|"
jq -rs 'def med: sort | .[length/2|floor]; def r3: .*1000|round/1000;
	map(select(.bench=="moe")) | group_by([.layer,.ranks,.zipf])[] |
	(map(select(.placement=="static"))) as $s | (map(select(.placement=="dynamic"))) as $d |
	"| \(.[0].layer) | \(.[0].ranks) | \(.[0].zipf) | \($s|map(.step_seconds)|med|.*10000|round/10000) | \($d|map(.step_seconds)|med|.*10000|round/10000) | \([range($s|length)] | map($s[.].step_seconds / $d[.].step_seconds) | med | .*100|round/100) | \($s|map(.imbalance)|med|r3) | \($d|map(.imbalance)|med|r3) | \($s|map(.token_imbalance)|med|r3) | \($d|map(.token_imbalance)|med|r3) |"' "$OUT"
