# Sourced: starts a real systemd-journald for this mount namespace (volatile storage under
# $work/log, no rate limit) and waits for its socket; $journald is its pid.
mkdir -p "$work/log" "$work/run"
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/journal /run/systemd/journald.conf.d /run/log
mount --bind "$work/log" /run/log
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nRateLimitBurst=0\n' > /run/systemd/journald.conf.d/50-test.conf
/lib/systemd/systemd-journald &
journald=$!
for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
