#!/usr/bin/env bash
# GPU checks on the device machine (one NVIDIA H100/H200; JAX with CUDA installed there).
#
#   1. the `gpu`-marked tests (GPU versus CPU agreement of every JAX path);
#   2. every benchmark's GPU figures (ChebTucker JAX evaluation at 1e7 points, the Coulomb
#      potential's JAX path next to fmm3dpy on the same machine, FunBaT epochs, GIOROM vs GNS
#      to 100k points, Phi-ROM step and evaluation round, MPM);
#   3. with the time left, the default test suite of the JAX parts on the GPU.
#
# `device_check.sh recon` measures the Phi-ROM and GIOROM steps and trains the SparseToDense
# reconstruction of GIOROM item 4 on 1440 sand flows (about 6 min).
# `device_check.sh figures` profiles SparseToDense and re-measures bench_giorom and the
# potentials (about 5 min).
# `device_check.sh owed` runs what the notes of sessions 9-18 list as owed on an H100, in one
# call (its step limits add up to 520 s; not yet timed on a GPU): the `gpu`-marked tests,
# bench_phirom (item 8.6), bench_giorom (item 7.5) and a shortened examples/phirom/kdv2d.py
# (KDV_STEPS optimiser steps, default 1500; its checkpoint comes back in $OUT/kdv2d/ and a
# full run resumes from it; KDV_ARGS=--quick for a dry run on a CPU).
# `device_check.sh train-phirom` trains Phi-ROM on Burgers for five seeds to 5000 and 12000 steps
# (acceptance item 8.4 across seeds and its "after full training" clause;
# examples/phirom/burgers_seeds.py), about 5 ms per step on an H200.
# `device_check.sh train-giorom` trains GIOROM and GNS on MPM sand (MATERIAL=water for water)
# at the paper's sizes (400-particle blocks, latent 128, 10 message-passing steps), 10^4 steps
# each on 100 training flows, 4 held out, with the example's Huber loss, wall range and
# budget (GIOROM gets 4x the windows per step: as many particle accelerations as GNS)
# (item 7.3; examples/giorom_sand.py; the CPU runs with 100-particle blocks are in
# docs/log/giorom.md, tenth to twelfth sessions). The checkpoints come back in $OUT/giorom_<material>/ (a
# later call resumes from them when they are carried back into giorom_resume/).
# Each stage is sized for one device call; owed, train-phirom and train-giorom have not run on
# a device yet (owed was dry-run on the CPU with KDV_ARGS=--quick; train-giorom was
# dry-run on the 2-core CPU with GIOROM_TRAJ=4 GIOROM_STEPS=20 GIOROM_ARGS="--frames 30").
# The device budget of a session (15 min) holds one of them and the start-up (about 30 s in
# the eighth session; a `recon` call took 460 s and a `figures` call 130 s).
#
# Wheels missing there (tensorly, fmm3dpy, exponax) travel in .whl/ and adk_open.pqr in
# .devdata/ (both ignored by git, named in the device tool's `carry`; benchmarks/prepare_device.sh
# fills them). Logs go to $OUT/device.log.
# Every step has its own time limit, so one hang costs only its step; the whole script stays
# under BUDGET seconds (default 560).
set -u
OUT=${OUT:-/tmp/tensorrom-device}
mkdir -p "$OUT"
LOG=$OUT/device.log
BUDGET=${BUDGET:-560}
# NUMBA_NUM_THREADS: tests/conftest.py pins 2 otherwise, which clashes with numba already
# initialised by the image's plugins; -p no:benchmark: pytest-benchmark there warns under xdist
# and our warnings are errors.
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false MPLBACKEND=Agg
export NUMBA_NUM_THREADS=${NUMBA_NUM_THREADS:-$(nproc)}
# processes that simulate MPM datasets on the CPU (two cores left to the GPU process)
WORKERS=$(( $(nproc) > 3 ? $(nproc) - 2 : 1 ))
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
PQR=.devdata/adk_open.pqr

step() {  # step NAME SECONDS CMD...
    local name=$1 limit=$2
    shift 2
    local left=$((BUDGET - SECONDS))
    if [ "$left" -lt 20 ]; then echo "=== $name: skipped (budget spent)" | tee -a "$LOG"; return; fi
    [ "$limit" -gt "$left" ] && limit=$left
    echo "=== $name (limit ${limit}s, t=${SECONDS}s): $*" | tee -a "$LOG"
    local t0=$SECONDS
    timeout "$limit" "$@" >> "$LOG" 2>&1
    echo "--- $name: rc=$? in $((SECONDS - t0))s" | tee -a "$LOG"
}

gpu_tests() {  # the `gpu`-marked tests: GPU versus CPU agreement of every JAX path
    step gpu-tests 120 python3 -m pytest -q -m gpu -p no:cacheprovider -p no:benchmark \
        --no-header tests/test_gpu_agreement.py tests/tensor/test_chebtucker.py \
        tests/lagrangian/mpm/test_solver.py
}

{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    python3 -c "import jax, numpy, numba, equinox, diffrax, optax; print('jax', jax.__version__,
jax.devices(), 'numpy', numpy.__version__, 'numba', numba.__version__, 'equinox',
equinox.__version__, 'diffrax', diffrax.__version__, 'optax', optax.__version__)"
    nproc
} >> "$LOG" 2>&1

STAGE=${1:-all}
if [ "$STAGE" = all ] || [ "$STAGE" = checks ]; then
    gpu_tests
    step bench-chebtucker 70 python3 benchmarks/bench_chebtucker.py --skip-compression \
        --points 1e7 --chebval-points 500 --no-protein
    step bench-potentials 120 python3 benchmarks/bench_potentials.py --pqr "$PQR"
    step bench-phirom 60 python3 benchmarks/bench_phirom.py
    step bench-giorom 100 python3 benchmarks/bench_giorom.py
    step bench-funbat 100 python3 benchmarks/bench_funbat.py
    step bench-mpm 45 python3 benchmarks/bench_mpm.py --quick
    step suite-on-gpu 150 python3 -m pytest -q -p no:cacheprovider -p no:benchmark --no-header -n 6 \
        tests/potentials tests/funbat tests/rom tests/lagrangian tests/tensor
fi
if [ "$STAGE" = owed ]; then
    gpu_tests
    step bench-phirom 60 python3 benchmarks/bench_phirom.py
    step bench-giorom 100 python3 benchmarks/bench_giorom.py
    step kdv2d 240 python3 examples/phirom/kdv2d.py --out /tmp/kdv2d --steps "${KDV_STEPS:-1500}" \
        ${KDV_ARGS:-}
    mkdir -p "$OUT/kdv2d"
    cp -r /tmp/kdv2d/kdv2d.json /tmp/kdv2d/*.png /tmp/kdv2d/ckpt_kdv2d "$OUT/kdv2d/" 2>/dev/null
fi
if [ "$STAGE" = train-phirom ]; then
    # the default ramp (2000 steps); PHIROM_RAMP=300 runs the earlier one; PHIROM_AUG=0.5
    # trains with parameter augmentation (TrainConfig.mu_augment, docs/log/phirom.md)
    step phirom-seeds 520 python3 examples/phirom/burgers_seeds.py --seeds 0 1 2 3 4 \
        --at 5000 12000 ${PHIROM_RAMP:+--ramp "$PHIROM_RAMP"} \
        ${PHIROM_AUG:+--mu-augment "$PHIROM_AUG"} --out /tmp/phirom_seeds
    cp /tmp/phirom_seeds/seeds.json "$OUT/phirom_seeds.json" 2>/dev/null
fi
if [ "$STAGE" = train-giorom ]; then
    MAT=${MATERIAL:-sand}
    mkdir -p "/tmp/giorom_$MAT"
    cp giorom_resume/*.eqx* "/tmp/giorom_$MAT/" 2>/dev/null
    # GIOROM_ARGS: more options of giorom_sand.py (e.g. "--frames 40" for a dry run)
    # shellcheck disable=SC2086
    step giorom-$MAT 520 python3 examples/giorom_sand.py --material "$MAT" \
        --trajectories "${GIOROM_TRAJ:-104}" --test 4 --steps "${GIOROM_STEPS:-10000}" \
        --latent 128 --message-passing 10 --workers "$WORKERS" \
        --fresh "${GIOROM_FRESH:-64}" --out "/tmp/giorom_$MAT" ${GIOROM_ARGS:-}
    mkdir -p "$OUT/giorom_$MAT"
    cp /tmp/giorom_$MAT/*.eqx* /tmp/giorom_$MAT/*.png /tmp/giorom_$MAT/summary_*.json \
        "$OUT/giorom_$MAT/" 2>/dev/null
    tr '\r' '\n' < "$LOG" | grep -A16 "held-out $MAT trajectory" | tail -n 20
    # the same comparison over flows outside the data set (--fresh; nineteenth session)
    tr '\r' '\n' < "$LOG" | grep -A2 "fresh flows (data seed"
fi
if [ "$STAGE" = recon ]; then
    # the figures owed on the GPU (Phi-ROM step, GIOROM inference step), then SparseToDense on
    # 1440 sand flows (item 7.4; 0.7 s per step on the 2-core CPU), the checkpoint copied to
    # $OUT (also after a timeout: it resumes on any machine with the same command)
    step bench-phirom 60 python3 benchmarks/bench_phirom.py
    step bench-giorom 100 python3 benchmarks/bench_giorom.py
    step recon-sand "${RECON_LIMIT:-420}" python3 examples/giorom_reconstruction.py \
        --extra-train 1280 --width 128 --batch 64 --steps "${RECON_STEPS:-24000}" \
        --workers "$WORKERS" --out /tmp/recon
    mkdir -p "$OUT/recon"
    cp /tmp/recon/*.eqx /tmp/recon/*.eqx.json "$OUT/recon/" 2>/dev/null
    tr '\r' '\n' < "$LOG" | grep -B2 -A14 "held-out sand trajectories" | tail -n 20
    gpu_tests
fi
if [ "$STAGE" = figures ]; then
    # GIOROM's inference step with its operator profiled, and the potentials' JAX path
    step profile-s2d 50 python3 benchmarks/profile_sparse_to_dense.py
    step bench-giorom 130 python3 benchmarks/bench_giorom.py
    step bench-potentials 100 python3 benchmarks/bench_potentials.py --pqr "$PQR" --repeats 1
fi
echo "total ${SECONDS}s" | tee -a "$LOG"
grep -E "^(===|---)|passed|failed|error" "$LOG" | tail -n 60
