#!/usr/bin/env bash
# Start `kneeoa train` with its defaults in the background, logging to runs/train.log.
# Follow it with: tail -f runs/train.log   (rerunning this resumes an interrupted run)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
nohup .venv/bin/kneeoa train --out "${1:-runs/model-out}" >> runs/train.log 2>&1 &
echo "training in the background (pid $!); log: runs/train.log"
