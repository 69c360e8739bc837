#!/usr/bin/env bash
# Packs the speed benchmark for a lent GPU machine into .dev/speed/ (ignored by git): a bundle of
# scripts/bench.ts. It reuses what scripts/device/pack.sh left in .dev/ (node.xz, the Vulkan
# loader's .debs in gl/, and the webgpu package in node_modules/), running that first if they are missing.
# Carry: .dev/speed .dev/node.xz .dev/gl .dev/node_modules. Run from the repo root.
set -euo pipefail
if [[ ! -f .dev/node.xz || ! -d .dev/gl || ! -d .dev/node_modules/webgpu ]]; then bash scripts/device/pack.sh; fi
rm -rf .dev/speed && mkdir -p .dev/speed
banner="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
npx esbuild scripts/bench.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --banner:js="$banner" --outfile=.dev/speed/bench.mjs --log-level=warning
du -sh .dev/speed .dev/node.xz .dev/gl .dev/node_modules
