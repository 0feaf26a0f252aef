#!/usr/bin/env bash
# Start a real single-node SLURM (munge, slurmctld, slurmd) on this machine for tests/test_slurm.py.
#
# Idempotent: when this test cluster already runs with the current configuration, it is reused as it
# is (no root needed then). Otherwise it needs root, and apt-get where Debian's slurm-wlm and munge
# are missing; it writes /etc/slurm/slurm.conf from slurm.conf.in (never over a slurm.conf it did not
# write), starts the daemons that are not running and restarts them when the configuration changed.
# Exit codes: 0 ready, 2 not root / no apt-get, 3 a foreign slurm.conf, 1 anything else.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
marker="brainrnn-test-cluster"
conf=/etc/slurm/slurm.conf
daemons=(slurmctld slurmd)
min_memory_mb=16384

log() { echo "[slurm setup] $*"; }
refuse() { echo "[slurm setup] $2" >&2; exit "$1"; }

cluster_ready() {
    # true when this test cluster's controller answers and its node is idle, mixed or allocated
    scontrol ping 2>/dev/null | grep "is UP" >/dev/null || return 1
    scontrol show config 2>/dev/null | grep -E "^ClusterName += brainrnn\s*$" >/dev/null || return 1
    sinfo --noheader --format=%T 2>/dev/null | grep -E "^(idle|mixed|allocated|completing)$" >/dev/null
}

render_conf() {
    # slurm.conf.in with this machine's short host name, its CPUs (as slurmd detects them) and its
    # memory, but at least min_memory_mb: without cgroups memory is only bookkeeping here, and a
    # bundled fMRI job asks for 8 GB (two 4 GB steps side by side) though it uses far less
    local hardware cpus memory
    hardware="$(slurmd -C | head -n 1)"
    cpus="$(sed -E 's/.*CPUs=([0-9]+).*/\1/' <<<"$hardware")"
    memory="$(sed -E 's/.*RealMemory=([0-9]+).*/\1/' <<<"$hardware")"
    (( memory >= min_memory_mb )) || memory=$min_memory_mb
    sed -e "s/@HOST@/$(hostname -s)/g" -e "s/@CPUS@/${cpus}/g" -e "s/@MEMORY@/${memory}/g" "$here/slurm.conf.in"
}

pid_alive() {
    # true when the pid in pid file $1 is alive
    [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

if command -v scontrol >/dev/null && cluster_ready; then
    if [[ -r "$conf" ]] && cmp -s <(render_conf) "$conf"; then
        log "the test cluster is up with the current configuration: reusing it"
        sinfo
        exit 0
    fi
    if [[ "${EUID}" -ne 0 ]]; then
        log "the test cluster is up (its slurm.conf differs from slurm.conf.in; not root, so reusing it as it is)"
        sinfo
        exit 0
    fi
fi

[[ "${EUID}" -eq 0 ]] || refuse 2 "not root (uid ${EUID}): cannot install slurm-wlm/munge or start their daemons"

missing=()
for tool in munged munge unmunge slurmctld slurmd sbatch squeue scancel; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if (( ${#missing[@]} )); then
    command -v apt-get >/dev/null || refuse 2 "${missing[*]} missing and no apt-get to install slurm-wlm/munge"
    log "installing slurm-wlm and munge (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends slurm-wlm munge; then
        apt-get update -q
        apt-get install -y -q --no-install-recommends slurm-wlm munge
    fi
fi

# munge: a key readable only by user munge, and munged running as that user
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [[ ! -s /etc/munge/munge.key ]]; then
    log "creating /etc/munge/munge.key"
    mungekey --create --keyfile=/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 50); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.2
    done
    munge -n | unmunge >/dev/null
fi

# slurm.conf from the template; the daemons are restarted when it changed
if [[ -e "$conf" ]] && ! grep -q "$marker" "$conf"; then
    refuse 3 "$conf exists and was not written by this script; refusing to overwrite it"
fi
install -d -m 0755 /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
render_conf > "$conf.new"
if cmp -s "$conf.new" "$conf"; then
    rm "$conf.new"
else
    log "writing $conf: $(grep '^NodeName=' "$conf.new")"
    mv "$conf.new" "$conf"
    for daemon in "${daemons[@]}"; do
        if pid_alive "/run/$daemon.pid"; then
            log "stopping $daemon (configuration changed)"
            kill "$(cat "/run/$daemon.pid")"
            for _ in $(seq 50); do pid_alive "/run/$daemon.pid" || break; sleep 0.2; done
        fi
    done
fi

for daemon in "${daemons[@]}"; do
    if ! pid_alive "/run/$daemon.pid"; then
        log "starting $daemon"
        "$daemon"
    fi
done

for attempt in $(seq 60); do
    cluster_ready && break
    # a node left down by an earlier run comes back once its slurmd answers
    if (( attempt % 10 == 0 )); then
        scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true
    fi
    sleep 1
done
if ! cluster_ready; then
    echo "[slurm setup] SLURM did not come up; last lines of the daemon logs:" >&2
    tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
    sinfo >&2 || true
    exit 1
fi
log "SLURM is up"
sinfo
