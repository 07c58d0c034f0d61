#!/usr/bin/env bash
# The CLI on a synthetic checkpoint of about 1.1 GB: MB/s to compress and decompress with 1 and 2
# threads (MB of .safetensors bytes per second of wall time) and peak memory (max RSS from
# /usr/bin/time -v). Files go to ${CHECKPOINT_DIR:-/tmp/lilcom-checkpoint}.
#
#   benches/checkpoint.sh [layers, default 20] [extra compress options, default --rel-error 1e-3]
set -euo pipefail
cd "$(dirname "$0")/.."
layers="${1:-20}"
shift || true
if [ "$#" -gt 0 ]; then options=("$@"); else options=(--rel-error 1e-3); fi
dir="${CHECKPOINT_DIR:-/tmp/lilcom-checkpoint}"
mkdir -p "$dir"
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

cargo build --release -p lilcom-cli --bin lilcom --example make_checkpoint
lilcom=target/release/lilcom
model="$dir/model-$layers.safetensors"
[ -f "$model" ] || target/release/examples/make_checkpoint "$model" "$layers"
size=$(stat -c %s "$model")
echo "checkpoint $model: $size bytes; compress options: ${options[*]}"
printf '| step | threads | seconds | MB/s | peak RSS MB | output MB |\n| --- | --- | --- | --- | --- | --- |\n'

run() {  # step threads output command...
  local step=$1 threads=$2 output=$3
  shift 3
  sync  # so that the previous run's writeback does not slow this one
  /usr/bin/time -v "$@" 2>"$dir/time.log" >/dev/null
  local seconds rss
  seconds=$(grep "Elapsed (wall clock)" "$dir/time.log" | awk -F': ' '{print $2}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$dir/time.log" | awk -F': ' '{print $2}')
  awk -v step="$step" -v t="$threads" -v s="$seconds" -v size="$size" -v rss="$rss" -v out="$(stat -c %s "$output")" \
    'BEGIN { printf "| %s | %s | %.2f | %.0f | %.0f | %.1f |\n", step, t, s, size / 1e6 / s, rss / 1024, out / 1e6 }'
}

for threads in 1 2; do
  run compress "$threads" "$dir/model.lck" $lilcom compress "$model" "$dir/model.lck" "${options[@]}" --threads "$threads" --force --quiet
  run decompress "$threads" "$dir/restored.safetensors" $lilcom decompress "$dir/model.lck" "$dir/restored.safetensors" --threads "$threads" --force --quiet
done
$lilcom info "$dir/model.lck" | head -5

# The checkpoint is larger than the address space the process may use: streaming is what lets
# this work (never the whole input or output in memory).
limit_kb=700000
(
  ulimit -v "$limit_kb"
  $lilcom compress "$model" "$dir/limited.lck" "${options[@]}" --force --quiet &&
    $lilcom decompress "$dir/limited.lck" "$dir/limited.safetensors" --force --quiet
) && echo "compress and decompress both succeed under ulimit -v $limit_kb KB (checkpoint: $size bytes)"
rm -f "$dir/limited.lck" "$dir/limited.safetensors"
