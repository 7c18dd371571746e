#!/usr/bin/env bash
# Runs on the GPU machine (device tool, `carry: [".device"]`, after scripts/device/pack.sh here):
# the reference models' training steps on the webgpu backend (Dawn over the NVIDIA Vulkan
# driver) and on wasm, with PyTorch CUDA side by side. Writes $OUT/bench.txt and $OUT/info.txt.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" /tmp/app
# DRY_RUN=1: a rehearsal on a machine without a GPU (leaves its / alone).
if [ -z "${DRY_RUN:-}" ]; then
  for f in .device/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
# The driver's Vulkan and EGL manifests, where the image keeps them (device README).
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
xz -dc .device/node.xz > /tmp/node && chmod +x /tmp/node
xz -dc .device/app.tar.xz | tar -C /tmp -xf -
{
  nvidia-smi -L
  /tmp/node --version
  ldconfig -p | grep -i vulkan
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
} > "$OUT/info.txt" 2>&1
cd /tmp/app
BENCH_BACKENDS=${BENCH_BACKENDS:-webgpu,wasm} BENCH_TORCH_DEVICE=cuda BENCH_PYTHON=python3 BENCH_TRAINING_ONLY=1 \
  timeout "${BENCH_TIMEOUT:-420}" /tmp/node dist/bench.js 2>&1 | tee "$OUT/bench.txt"
