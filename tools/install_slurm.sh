#!/usr/bin/env bash
# Install Debian's Slurm and munge packages for the one-node cluster the
# Slurm tests start (tests/slurm_cluster.py), when missing and when root.
set -euo pipefail
need=()
for bin in slurmctld slurmd srun munged; do
  command -v "$bin" >/dev/null 2>&1 || need+=("$bin")
done
if [[ ${#need[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[slurm] ${need[*]} missing and cannot install them (needs root and" \
       "apt-get); the Slurm tests will be skipped" >&2
  exit 0
fi
echo "[slurm] installing slurmctld slurmd slurm-client munge"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || { echo "[slurm] FAILED: apt-get update" >&2; exit 1; }
apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null \
  || { echo "[slurm] FAILED: apt-get install slurm packages" >&2; exit 1; }
