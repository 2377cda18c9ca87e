#!/usr/bin/env bash
# Like run-in-journald-namespace.sh, with a site agent: karstd (CONFIG has a data centre "site"
# run by agents) and karst-agent both log to a private systemd-journald; a command job runs on
# the agent; prints the journal's JSON entries of that job, the daemon's and the agent's.
# Usage (as root): unshare --mount --propagation private bash run-agent-in-journald-namespace.sh \
#   KARSTD KARSTCTL KARST_AGENT CONFIG WORKDIR
set -euo pipefail
karstd=$1 karstctl=$2 agent=$3 config=$4 work=$5
. "$(dirname "$0")/start-journald.sh"
"$karstd" --ephemeral --config "$config" --socket "$work/run/k.sock" --log-target journal --log-level info &
daemon=$!
agentpid=
trap 'kill $agentpid $daemon $journald 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -S "$work/run/k.sock" ] && break; sleep 0.05; done
"$agent" --socket "$work/run/k.sock" --datacenter site --name a1 --state-dir "$work/agent" --log-target journal &
agentpid=$!
"$karstctl" submit --socket "$work/run/k.sock" --origin local --class batch --cpu 1 --memory 1 -- /bin/true >/dev/null
for _ in $(seq 200); do
  "$karstctl" get --socket "$work/run/k.sock" job-1 | grep -q "State: *succeeded" && break
  sleep 0.05
done
sleep 0.3
journalctl --sync
journalctl -o json --no-pager KARST_JOB_ID=job-1
