#!/usr/bin/env bash
# GPU readiness, unattended: every golden on each GPU provider this machine's onnxruntime offers (cuda
# needs onnxruntime-node's CUDA files and a driver; webgpu needs Vulkan), then the real-size benchmark at
# the 0.5b shape on the first working one (weights held as float16, computed in float32). Prints one
# table; exits 1 on any golden mismatch, 0 otherwise (a provider that is absent is listed, not failed).
# Usage: scripts/device-check.sh   (from the repository root, after npm ci; about 5 minutes)
set -u
cd "$(dirname "$0")/.."
[ -f dist/cli.js ] || npm run build >/dev/null
providers=$(node dist/cli.js providers)
rows=()
failed=0
first_gpu=""
for p in cuda webgpu; do
  if ! grep -qx "$p" <<<"$providers"; then
    rows+=("$p|all goldens|not available here ($(grep "^$p" <<<"$providers" || echo 'not built in'))")
    continue
  fi
  for g in test/fixtures/golden/*/; do
    name=$(basename "$g")
    # Both image-token conventions; every quantity against its tolerance.
    out=$(timeout 300 node dist/cli.js golden "$g" --provider "$p" 2>&1)
    rc=$?
    worst=$(grep -E '^\s+\S+\s+[0-9.e+-]+\s+[0-9.e+-]+' <<<"$out" | awk '{print $3}' | sort -g | tail -1)
    if [ $rc -eq 0 ]; then status="ok (worst rel ${worst:-?})"; [ -z "$first_gpu" ] && first_gpu=$p
    else status="MISMATCH or error: $(tail -1 <<<"$out")"; failed=1; fi
    rows+=("$p|$name|$status")
  done
done
if [ -n "$first_gpu" ]; then
  bench=$(timeout 420 npm run --silent bench -- real-size --shape interleave-0.5b --provider "$first_gpu" --json 2>&1 | tail -1)
  rows+=("$first_gpu|real-size interleave-0.5b (F16 weights)|$bench")
else
  rows+=("-|real-size on a GPU|skipped: no GPU provider works here")
fi
printf '%-8s %-44s %s\n' provider check result
for r in "${rows[@]}"; do IFS='|' read -r a b c <<<"$r"; printf '%-8s %-44s %s\n' "$a" "$b" "$c"; done
exit $failed
