#!/bin/bash
# benchmarks/quiet.sh LOG CMD... : run a benchmark CMD on a shared machine with the other work held back.
#
# Every other python, sapper, chromium, node, pytest, uvicorn or gunicorn process (other people's tests and servers)
# is kept at nice 19 while CMD runs (checked every second, so new ones are caught), then set back to nice 0. Needs
# root: it also turns autogroup scheduling off (/proc/sys/kernel/sched_autogroup_enabled), without which nice
# counts only inside a terminal session's group and the others' groups still get an equal share of the CPU. The
# held-back work still uses the caches and memory bandwidth, and services (PostgreSQL) are left as they are, so this
# is quieter, not quiet. CMD runs with SAPPER_BENCH_QUIET=nice19 in its environment: the benchmarks' machine line
# (benchmarks/_common.py) then says how it was measured. CMD's output and the load average before and after are
# appended to LOG.
#
#     benchmarks/quiet.sh /tmp/bench.log .venv/bin/python benchmarks/forecast_speed.py --write docs/benchmarks.md
log=$1; shift
echo 0 > /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null
mine() {  # the PIDs of this script's process tree
  local todo=($$) out=() p
  while ((${#todo[@]})); do p=${todo[0]}; todo=("${todo[@]:1}"); out+=("$p")
    todo+=($(cat /proc/$p/task/*/children 2>/dev/null)); done
  echo " ${out[*]} "
}
renice_others() {
  local keep; keep=$(mine)
  for p in $(pgrep -f 'python|sapper|chromium|node|pytest|uvicorn|gunicorn'); do
    [[ "$keep" == *" $p "* ]] && continue
    renice -n "$1" -p "$p" >/dev/null 2>&1
  done
}
( while true; do renice_others 19; sleep 1; done ) & keeper=$!
sleep 2
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
SAPPER_BENCH_QUIET=nice19 "$@" >> "$log" 2>&1; rc=$?
echo "end $(date -u +%T) rc $rc load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$log"
kill $keeper; wait $keeper 2>/dev/null
renice_others 0
exit $rc
