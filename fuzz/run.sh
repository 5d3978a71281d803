#!/usr/bin/env bash
# Builds the fuzz targets and runs each for SECONDS (default 60), two at a time, on stable Rust:
# cargo-fuzz with `--sanitizer none` (libFuzzer and SanitizerCoverage, no -Z flags).
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Corpora grow in fuzz/corpus/<target>, crashes land in fuzz/artifacts/<target>, each run's log in
# fuzz/logs/<target>.log. Exits non-zero when any target found a crash, a hang (one input taking
# over FUZZ_TIMEOUT seconds, default 1) or a leak. FUZZ_JOBS (default 2) targets run at a time.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-60}
shift || true
all=(analyzer_bytes analyzer_fragments config lsp_stream lsp_requests kernel_script bridge)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
jobs=${FUZZ_JOBS:-2}
timeout=${FUZZ_TIMEOUT:-1}

dict_of() {
  case "$1" in
    analyzer_bytes) echo dict/typescript.dict ;;
    config) echo dict/json.dict ;;
    lsp_stream) echo dict/lsp.dict ;;
    kernel_script | bridge) echo dict/js.dict ;;
    *) echo "" ;;
  esac
}

bash seed.sh
cargo fuzz build --sanitizer none

mkdir -p logs
run_one() {
  local target=$1 dict args
  dict=$(dict_of "$target")
  args=(-max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 -print_final_stats=1)
  [ -n "$dict" ] && args+=(-dict="$dict")
  cargo fuzz run --sanitizer none "$target" -- "${args[@]}" >"logs/$target.log" 2>&1
}

failed=()
pids=()
names=()
for target in "${targets[@]}"; do
  run_one "$target" &
  pids+=($!)
  names+=("$target")
  if [ ${#pids[@]} -ge "$jobs" ]; then
    if ! wait "${pids[0]}"; then failed+=("${names[0]}"); fi
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then failed+=("${names[$i]}"); fi
done

# One line per target: executions, speed and coverage from libFuzzer's final statistics.
for target in "${targets[@]}"; do
  log="logs/$target.log"
  execs=$(awk '/stat::number_of_executed_units:/ { print $2 }' "$log" | tail -1)
  speed=$(awk '/stat::average_exec_per_sec:/ { print $2 }' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  printf 'fuzz %-20s %8s s  %10s execs  %6s exec/s  %s\n' "$target" "$seconds" "${execs:-?}" "${speed:-?}" "${cov:-?}"
done
if [ ${#failed[@]} -gt 0 ]; then
  for target in "${failed[@]}"; do
    echo "fuzz: $target failed; the end of fuzz/logs/$target.log:" >&2
    tail -n 40 "logs/$target.log" >&2
  done
  exit 1
fi
