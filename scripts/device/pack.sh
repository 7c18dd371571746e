#!/usr/bin/env bash
# Packs what the GPU check needs into .device/ (ignored by git), for the workplace's `device`
# tool, whose machine has an NVIDIA GPU, PyTorch with CUDA, and no Node and no network:
#   .device/node.xz        this machine's Node binary (x86-64 Linux), xz-compressed
#   .device/app.tar.xz     the production bundles (no source maps), Dawn for linux-x64, koffi for
#                          linux-x64, the PyTorch reference script and the examples
#   .device/gl/*.deb       the Vulkan loader and GL dispatch libraries (see the device README)
# Then run scripts/device/gpu-bench.sh there with `carry: [".device"]`.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.device/' .git/info/exclude || echo '/.device/' >> .git/info/exclude
rm -rf .device && mkdir -p .device/gl
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

node esbuild.mjs --production --quiet
mkdir -p "$stage/app/dist" "$stage/app/node_modules/webgpu/dist/linux-x64" "$stage/app/test/reference"
cp dist/worker.js dist/bench.js dist/*.wasm "$stage/app/dist/"
cp -r dist/grammars "$stage/app/dist/"
mkdir -p "$stage/app/dist/node_modules/koffi/build/koffi"
cp dist/node_modules/koffi/{index.js,package.json,LICENSE.txt} "$stage/app/dist/node_modules/koffi/"
cp -r dist/node_modules/koffi/build/koffi/linux_x64 "$stage/app/dist/node_modules/koffi/build/koffi/"
cp node_modules/webgpu/{package.json,index.js} "$stage/app/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$stage/app/node_modules/webgpu/dist/linux-x64/"
cp test/reference/torch_reference.py "$stage/app/test/reference/"
cp -r examples "$stage/app/"
tar -C "$stage" -cf - app | xz -T0 -6 > .device/app.tar.xz
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > .device/node.xz

# The Vulkan loader for amd64, as the device README describes.
lists=$(mktemp -d)
o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
mkdir -p "$lists/partial"
apt-get "${o[@]}" update -qq
(cd .device/gl && apt-get "${o[@]}" download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
rm -rf "$lists"

du -sh .device/* .device/gl | sort -h
total=$(du -sb .device | cut -f1)
echo "carried: $((total / 1048576)) MiB (the device tool takes 64 MiB with the tracked tree)"
[ "$total" -lt $((60 * 1048576)) ] || { echo 'too large for the device tool' >&2; exit 1; }
