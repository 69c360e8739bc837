#!/usr/bin/env bash
# Packs the speed benchmarks for a lent GPU machine into .dev/speed/ (ignored by git): bundles of
# scripts/bench.ts, scripts/bench-ops.ts and scripts/train.ts. It reuses what scripts/device/pack.sh left in .dev/ (node.xz, the Vulkan
# loader's .debs in gl/, and the webgpu package in node_modules/), running that first if they are missing.
# Carry: .dev/speed .dev/node.xz .dev/gl .dev/node_modules (about 57 MB: the bundles are minified to fit
# the device tool's 64 MiB with the working tree). Run from the repo root; then scripts/device/final-gpu.sh there.
set -euo pipefail
if [[ ! -f .dev/node.xz || ! -d .dev/gl || ! -d .dev/node_modules/webgpu ]]; then bash scripts/device/pack.sh; fi
rm -rf .dev/speed && mkdir -p .dev/speed
banner="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
for s in bench bench-ops train; do
  npx esbuild "scripts/$s.ts" --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --external:playwright-core --external:vite --external:vitest --minify --banner:js="$banner" --outfile=".dev/speed/$s.mjs" --log-level=warning
done
du -sh .dev/speed .dev/node.xz .dev/gl .dev/node_modules
