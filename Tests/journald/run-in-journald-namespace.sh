#!/usr/bin/env bash
# Runs a real systemd-journald in a private mount namespace (no booted systemd needed), starts
# karstd logging to it, submits and cancels a job, and prints the journal's JSON entries for it.
# Usage (as root): unshare --mount --propagation private bash run-in-journald-namespace.sh KARSTD KARSTCTL WORKDIR
set -euo pipefail
karstd=$1 karstctl=$2 work=$3
. "$(dirname "$0")/start-journald.sh"
trap 'kill $journald 2>/dev/null || true' EXIT
"$karstd" --ephemeral --socket "$work/run/k.sock" --log-target journal --log-level info &
daemon=$!
for _ in $(seq 200); do [ -S "$work/run/k.sock" ] && break; sleep 0.05; done
"$karstctl" submit --socket "$work/run/k.sock" --origin gba --class batch --cpu 2 --memory 4 >/dev/null
"$karstctl" cancel --socket "$work/run/k.sock" job-1 >/dev/null
sleep 0.3
journalctl --sync
journalctl -o json --no-pager KARST_JOB_ID=job-1
kill -TERM $daemon
wait $daemon
