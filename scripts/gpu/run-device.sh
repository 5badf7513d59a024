#!/usr/bin/env bash
# The GPU device run: everything issue "On a real GPU" measures, in one script with a time limit
# per part, writing its logs and results to $OUT (the folder the device tool brings back).
#
#   node scripts/gpu/build-kit.mjs          # here, first: the kit in .gpu/ (see that file)
#   device run, carry [.gpu/bin, .gpu/debs, .gpu/kit.tar.xz]:
#     bash scripts/gpu/run-device.sh
#   rehearsal here on SwiftShader with tiny sizes:
#     OUT=/tmp/gpu-out VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json bash scripts/gpu/run-device.sh --tiny
#
# Parts (each logged to $OUT/<part>.log; $OUT/summary.txt lists each part's exit status and time):
#   info, parity, fft (FFT tunings; the fastest at the largest size is measured beside the
#   default through TFUS_FFT_TUNING), sweep (solver step: global design, default, that tuning),
#   bench-solver (128^3, 192^3, 256^3, default and fastest tuning), bm1 (validate --only bm1),
#   plan (tfus plan of the sample CT at 6 points per wavelength), thermal (bench:thermal on a
#   synthetic head and on that plan), surrogate (bench:surrogate: ONNX Runtime's providers),
#   robustness (256^3 with Dawn's robustness transform off, for comparison only).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-$ROOT/.gpu/out}
mkdir -p "$OUT"
TINY=0
[ "${1:-}" = "--tiny" ] && TINY=1
ONLY=${ONLY:-}
started=$(date +%s)
summary="$OUT/summary.txt"
: >"$summary"

log() { echo "[$(($(date +%s) - started)) s] $*" | tee -a "$summary"; }

# --- Unpack the kit -----------------------------------------------------------------------------
RUN=$ROOT/.gpu/run
mkdir -p "$RUN"
if [ -f .gpu/kit.tar.xz ]; then rm -rf .gpu/kit && xz -dc .gpu/kit.tar.xz | tar -C .gpu -xf -; fi
unpack() { # <name.xz> <destination>
  [ -f "$2" ] && [ "$2" -nt ".gpu/bin/$1" ] && return 0
  mkdir -p "$(dirname "$2")" && xz -dc ".gpu/bin/$1" >"$2.part" && mv "$2.part" "$2"
}
if command -v node >/dev/null 2>&1 && [ "$TINY" = 1 ]; then
  NODE=$(command -v node)
else
  unpack node.xz "$RUN/node" && chmod +x "$RUN/node"
  NODE=$RUN/node
fi
unpack dawn.node.xz .gpu/kit/dist/linux-x64/dawn.node
ORT_DIR=.gpu/kit/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
[ -f .gpu/bin/libonnxruntime.so.1.xz ] && unpack libonnxruntime.so.1.xz "$ORT_DIR/libonnxruntime.so.1"

# Vulkan: the loader and GL dispatch libraries from Debian's packages (never over a rehearsal
# machine's own), and NVIDIA's ICD.
if [ "$TINY" = 0 ]; then
  for f in .gpu/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -f "$NV_ICD" ]; then
  export VK_DRIVER_FILES=$NV_ICD VK_ICD_FILENAMES=$NV_ICD
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
export TFUS_ROOT=$ROOT
log "node $("$NODE" --version); VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-unset}"
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>&1 || echo "no nvidia-smi"; ls /usr/local/nvidia/share/vulkan/icd.d/ /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>&1; nproc; free -g; } >"$OUT/machine.txt"

# --- Parts --------------------------------------------------------------------------------------
# part <name> <seconds> <command...>: runs it with a time limit, output to $OUT/<name>.log.
# The whole run stays within BUDGET seconds (330 on the device, 1500 for a SwiftShader rehearsal,
# where parity alone takes minutes): a part gets what is left, and none starts with less
# than 10 s.
BUDGET=${BUDGET:-$([ "$TINY" = 1 ] && echo 1500 || echo 330)}
part() {
  local name=$1 limit=$2
  shift 2
  if [ -n "$ONLY" ] && ! [[ " $ONLY " == *" $name "* ]]; then return 0; fi
  local left=$((BUDGET - ($(date +%s) - started)))
  if [ "$left" -lt 10 ]; then log "$name: skipped (budget of $BUDGET s spent)"; return 0; fi
  [ "$left" -lt "$limit" ] && limit=$left
  local t0=$(date +%s.%N)
  timeout -k 5 "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  local t1=$(date +%s.%N)
  log "$name: exit $rc in $(echo "$t1 - $t0" | bc 2>/dev/null || python3 -c "print(round($t1 - $t0, 1))") s (limit $limit s)"
  tail -n 3 "$OUT/$name.log" | sed 's/^/    /' | tee -a "$summary"
  return $rc
}
N=("$NODE" --max-old-space-size=16384)
K=.gpu/kit
PLAN=$ROOT/.gpu/plan
rm -rf "$PLAN"

if [ "$TINY" = 1 ]; then
  part info 60 "${N[@]}" $K/checks.mjs info
  part parity 600 "${N[@]}" $K/checks.mjs parity --tiny
  part fft 300 "${N[@]}" $K/checks.mjs fft --tiny --best "$OUT/best-tuning.txt"
  part sweep 300 "${N[@]}" $K/checks.mjs sweep --tiny --candidate "$(cat "$OUT/best-tuning.txt" 2>/dev/null)"
  part bench-solver 300 "${N[@]}" $K/bench-solver.mjs --backend webgpu --sizes 40 --quick
  part plan 900 "${N[@]}" $K/tfus.mjs plan --ct resources/samples/cranium-ct.nii.gz --target 30,-18,13.5 --transducer itrusst-bm-bowl --ppw 2 --backend webgpu --isppa-free-water 10 --out "$PLAN"
  part thermal 300 "${N[@]}" $K/bench-thermal.mjs --backend webgpu --plan "$PLAN"
  part surrogate 300 "${N[@]}" $K/bench-surrogate.mjs --poses 1
  exit 0
fi

# The tool brings back a handful of files: everything travels as one archive besides the summary.
pack() { tar -C "$OUT" -czf "$ROOT/.gpu/logs.tgz" --exclude=logs.tgz . && mv "$ROOT/.gpu/logs.tgz" "$OUT/logs.tgz"; }
trap pack EXIT

if [ "${MODE:-}" = diag ]; then
  # Where the time of a step goes, with Dawn's robustness transform on and off.
  BEST=${TFUS_FFT_TUNING:-1024,256,0}
  part profile 60 "${N[@]}" $K/checks.mjs profile --sizes 192,256
  part profile-best 60 "${N[@]}" $K/checks.mjs profile --sizes 256 --candidate "$BEST"
  part profile-best-norobust 60 env TFUS_DAWN_FLAGS=enable-dawn-features=disable_robustness "${N[@]}" $K/checks.mjs profile --sizes 192,256 --candidate "$BEST"
  part bench-best 60 env TFUS_FFT_TUNING="$BEST" "${N[@]}" $K/bench-solver.mjs --backend webgpu --sizes 128,192,256 --quick --steps 60
  part bench-best-norobust 60 env TFUS_FFT_TUNING="$BEST" TFUS_DAWN_FLAGS=enable-dawn-features=disable_robustness "${N[@]}" $K/bench-solver.mjs --backend webgpu --sizes 128,192,256 --quick --steps 60
  export TFUS_FFT_TUNING=$BEST
  part plan 90 "${N[@]}" $K/tfus.mjs plan --ct resources/samples/cranium-ct.nii.gz --target 30,-18,13.5 --transducer itrusst-bm-bowl --ppw 6 --backend webgpu --isppa-free-water 10 --out "$PLAN"
  mkdir -p "$OUT/plan" && cp "$PLAN"/*.json "$OUT/plan/" 2>/dev/null
  part surrogate 60 "${N[@]}" $K/bench-surrogate.mjs --poses 5
  log "done"
  exit 0
fi

part info 60 "${N[@]}" $K/checks.mjs info
part parity 120 "${N[@]}" $K/checks.mjs parity
part fft 60 "${N[@]}" $K/checks.mjs fft --sizes 128,256 --best "$OUT/best-tuning.txt"
part bench-solver 60 "${N[@]}" $K/bench-solver.mjs --backend webgpu --sizes 128,192,256 --quick --steps 50
BEST=$(cat "$OUT/best-tuning.txt" 2>/dev/null || true)
# The shipped default runs everything else; the sweep's fastest is measured beside it.
[ -n "$BEST" ] && part bench-solver-best 60 env TFUS_FFT_TUNING="$BEST" "${N[@]}" $K/bench-solver.mjs --backend webgpu --sizes 128,192,256 --quick --steps 50
part bm1 90 "${N[@]}" $K/validate.mjs --backend webgpu --only bm1
part plan 150 bash scripts/gpu/stamped.sh "${N[@]}" $K/tfus.mjs plan --ct resources/samples/cranium-ct.nii.gz --target 30,-18,13.5 --transducer itrusst-bm-bowl --ppw 6 --backend webgpu --isppa-free-water 10 --out "$PLAN" --progress
mkdir -p "$OUT/plan" && cp "$PLAN"/*.json "$OUT/plan/" 2>/dev/null # the volumes stay there: the JSON comes back
part sweep 60 "${N[@]}" $K/checks.mjs sweep --size 256 --candidate "$BEST"
part thermal 60 "${N[@]}" $K/bench-thermal.mjs --backend webgpu
part surrogate 60 "${N[@]}" $K/bench-surrogate.mjs --poses 5
part thermal-plan 45 "${N[@]}" $K/bench-thermal.mjs --backend webgpu --plan "$PLAN"
part robustness 45 env TFUS_DAWN_FLAGS=enable-dawn-features=disable_robustness "${N[@]}" $K/bench-solver.mjs --backend webgpu --sizes 128,192,256 --quick --steps 50
log "done"
