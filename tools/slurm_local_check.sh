#!/usr/bin/env bash
# Prove on a real (single-node) Slurm that a sharded build — the array job and the dependent
# merge job of examples/slurm/build.sbatch — equals a local `artefact build` byte for byte.
#
# Run as root on a Debian machine from the checkout: installs slurm-wlm and munge from apt
# when missing, starts munged, slurmctld and slurmd on this machine with a minimal slurm.conf
# in a temporary directory, submits the array build (N shards, default 3) and the merge of a
# small recipe (CT and MR slices of tests/data), builds the same recipe locally with the same
# secret and compares the trees. Exit 0 only when they are identical. The daemons it started
# are stopped on exit (KEEP=1 keeps them and the directory). Not part of CI.
#
#   sudo tools/slurm_local_check.sh [N]
#   ARTEFACT_BIN=target/debug/artefact tools/slurm_local_check.sh   # skip the release build
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
n=${1:-3}
[ "$(id -u)" -eq 0 ] || { echo "run as root (installs packages, starts daemons)" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
bin=${ARTEFACT_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --bin artefact
    bin=target/release/artefact
fi
bin=$(realpath "$bin")

d=$(mktemp -d /tmp/artefact-slurm.XXXXXX)
chmod 755 "$d"
pids=()
cleanup() {
    local rc=$?
    if [ "${KEEP:-0}" != 1 ]; then
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do
            for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
        done
        rm -rf "$d"
    else
        echo "kept $d and daemons ${pids[*]}"
    fi
    exit $rc
}
trap cleanup EXIT

# munge: the Debian package made /etc/munge/munge.key; munged runs as the munge user
if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 600 /etc/munge/munge.key
fi
mkdir -p /run/munge && chown munge:munge /run/munge
mkdir -p "$d/munge" && chown munge:munge "$d/munge"
runuser -u munge -- /usr/sbin/munged --pid-file="$d/munge/munged.pid" \
    --socket=/run/munge/munge.socket.2 2>>"$d/munged.log" ||
    { echo "munged did not start (already running?)" >&2; cat "$d/munged.log" >&2; }
for _ in $(seq 20); do [ -s "$d/munge/munged.pid" ] && break; sleep 0.2; done
[ -s "$d/munge/munged.pid" ] && pids+=("$(cat "$d/munge/munged.pid")")
munge -n | unmunge >/dev/null || { echo "munge does not work" >&2; exit 1; }

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$d/state" "$d/spool"
cat > "$d/slurm.conf" <<CONF
ClusterName=artefactcheck
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$d/slurm.conf"
/usr/sbin/slurmctld -f "$SLURM_CONF"
for _ in $(seq 20); do [ -s "$d/slurmctld.pid" ] && break; sleep 0.2; done
[ -s "$d/slurmctld.pid" ] && pids+=("$(cat "$d/slurmctld.pid")")
/usr/sbin/slurmd -f "$SLURM_CONF"
for _ in $(seq 20); do [ -s "$d/slurmd.pid" ] && break; sleep 0.2; done
[ -s "$d/slurmd.pid" ] && pids+=("$(cat "$d/slurmd.pid")")
for _ in $(seq 60); do
    state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 1
done
sinfo
[ "$state" = idle ] || { echo "the node is not idle ($state)" >&2; tail -n 20 "$d"/slurm*.log >&2; exit 1; }

# a small recipe: CT and MR slices of the bundled files, calibrated attribute recipes
cat > "$d/small.toml" <<TOML
[benchmark]
name = "slurmcheck"
seed = 7
image_size = 128
[[sources]]
path = "$repo/tests/data/dicom/CT_head_512.dcm"
[[sources]]
path = "$repo/tests/data/dicom/MR_abdomen_484.dcm"
[[sources]]
path = "$repo/tests/data/nifti/mni152_t1_1mm.nii.gz"
[selection]
axis = 0
slices_per_volume = 3
min_foreground = 0.15
[attributes]
recipes = ["$repo/recipes/mri/noise.toml", "$repo/recipes/mri/bias_field.toml",
           "$repo/recipes/ct/low_dose.toml", "$repo/recipes/ct/ring.toml"]
[questions]
yes_no = 10
what = 6
how = 6
[pairs]
coarse = 4
fine = 4
[splits]
test = 0.6
dev = 0.4
TOML

work="$d/work"
mkdir -p "$work/logs"
export ARTEFACT="$bin"
export ARTEFACT_SBATCH_ARGS="--cpus-per-task=1 --mem=0 --output=$work/logs/%x-%A_%a.out"
submitted=$(bash examples/slurm/build.sbatch submit "$d/small.toml" "$work" "$n")
echo "$submitted"
read -r _ _ jid _ _ _ _ mid _ <<<"$submitted"
for _ in $(seq 1800); do
    [ -z "$(squeue -h -j "$jid,$mid" 2>/dev/null)" ] && break
    sleep 1
done
scontrol show job "$jid" | grep -E "JobId|JobState" || true
scontrol show job "$mid" | grep -E "JobId|JobState" || true
for f in "$work"/logs/*; do echo "== $f"; cat "$f"; done
merge_state=$(scontrol show job "$mid" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
[ "$merge_state" = COMPLETED ] || { echo "the merge job ended $merge_state" >&2; exit 1; }

"$bin" build "$d/small.toml" -o "$d/local" --key-file "$work/key" --jobs "$cpus" >/dev/null
if diff -r "$d/local" "$work/out" >/dev/null; then
    echo "IDENTICAL: the Slurm array build ($n shards) merged equals the local build ($(find "$d/local" -type f | wc -l) files)"
else
    diff -rq "$d/local" "$work/out" | head -20
    echo "DIFFERENT: the merged Slurm build differs from the local build" >&2
    exit 1
fi
