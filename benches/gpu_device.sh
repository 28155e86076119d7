#!/usr/bin/env bash
# The GPU benchmark on a lent device machine, in one call of the device
# tool (no Rust toolchain and no network there). Prepare here, once:
#
#   cargo build --release && mkdir -p .dev && cp target/release/fathom .dev/ && strip .dev/fathom
#   # the Vulkan loader (/work/.library/device/README.md): .gl/*.deb
#   echo /.gl/ >> .git/info/exclude; echo /.dev/ >> .git/info/exclude
#
# then call the device tool's run with command `bash benches/gpu_device.sh`,
# carry [".gl", ".dev"] and timeout_s 480. Results come back from $OUT:
# gpu_h200.json, gpu_h200.md, log.txt, smoke.json, nvidia-smi.txt; copy the
# first two into results/ and commit them.
set -uo pipefail
OUT="${OUT:-$(mktemp -d)}"
BUDGET="${BUDGET:-420}"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; fi
export XDG_RUNTIME_DIR="$(mktemp -d)"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
mkdir -p target/release
cp .dev/fathom target/release/fathom
# The device first: the summary must name an NVIDIA GPU and TLC's counts
# (TwoPhase N=5: 8832 distinct, 58146 generated, depth 17).
target/release/fathom check specs/two_phase.fathom --const N=5 --backend gpu --json -q \
    > "$OUT/smoke.json" 2> "$OUT/smoke.err"
cat "$OUT/smoke.json" "$OUT/smoke.err"
PYTHONUNBUFFERED=1 python3 benches/gpu.py --budget "$BUDGET" --out "$OUT" --name gpu_h200 \
    2>&1 | tee "$OUT/log.txt"
