#!/usr/bin/env bash
# The emulated-uintr job of .ci/run: runs every test that exercises the hardware
# user-interrupt path (trait Uintr=Real, test/UintrIpc.Tests/Signaling/RealUintr.cs) inside
# the emulated uintr machine of uintr-lab (../shared/uintr-lab/README.md), with
# UINTRIPC_REQUIRE_UINTR=1 so that a test that cannot use user interrupts fails instead of
# skipping. Writes RESULTS_DIR/uintr-lab.trx, which .ci/run counts with the other results.
# Where the lab is absent, says so in one line and records those tests as skipped with that
# reason (the runner runs them with UINTRIPC_UINTR_LAB_ABSENT set, so each one skips).
# Given the benchmark harness's build output (BENCH_OUTPUT_DIR), it also runs the harness's
# uintr rows there once, briefly, and fails unless they complete labelled as emulated.
#
#   .ci/uintr-lab.sh TEST_OUTPUT_DIR RESULTS_DIR [BENCH_OUTPUT_DIR]
#
# The lab is looked for in $UINTR_LAB, then ../shared/uintr-lab beside this checkout, then
# beside the main checkout of a git worktree. Exit status: 0 when the job ran (its results
# are in the TRX), non-zero when it could not produce results.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
tests_dir=$1
results_dir=$2
bench_dir=${3:-}
trx="$results_dir/uintr-lab.trx"
filter=(-trait "Uintr=Real" -preEnumerateTheories -noColor -noLogo)
mkdir -p "$results_dir"
rm -f "$trx"

lab=""
main_checkout="$(cd "$(git rev-parse --git-common-dir 2>/dev/null || echo .git)/.." 2>/dev/null && pwd || true)"
for candidate in "${UINTR_LAB:-}" "../shared/uintr-lab" "${main_checkout:+$main_checkout/../shared/uintr-lab}"; do
    if [ -n "$candidate" ] && [ -x "$candidate/run-guest.sh" ]; then
        lab="$(cd "$candidate" && pwd)"
        break
    fi
done

if [ -z "$lab" ]; then
    reason="no emulated uintr machine (../shared/uintr-lab) next to this checkout: the hardware user-interrupt tests did not run"
    echo "uintr-lab: absent; $reason"
    UINTRIPC_UINTR_LAB_ABSENT="$reason" dotnet "$tests_dir/UintrIpc.Tests.dll" "${filter[@]}" -reporter quiet -trx "$trx" >/dev/null || true
    [ -s "$trx" ]
    exit
fi

echo "uintr-lab: $lab"
start=$(date +%s)
# Inside: the test assembly (with the test peer and the demo beside it) runs by itself, xunit v3
# needs no SDK; -longRunning names every test still running after 90 s, so that a guest killed
# at its timeout says which test it was in (the whole job takes about 100 s). The TRX comes back base64-encoded between markers on the console.
guest_script=$(mktemp)
guest_log=$(mktemp)
bench_stage=$(mktemp -d)
trap 'rm -rf "$guest_script" "$guest_log" "$bench_stage"' EXIT
cat > "$guest_script" <<EOF
cd /opt/tests
UINTRIPC_REQUIRE_UINTR=1 UINTRIPC_TEST_RUN=uintr-lab dotnet UintrIpc.Tests.dll ${filter[*]} -longRunning 90 -trx /tmp/uintr-lab.trx
echo "UINTR-TESTS-RC=\$?"
echo UINTR-TRX-BEGIN
base64 /tmp/uintr-lab.trx
echo UINTR-TRX-END
leftovers=\$(ls /dev/shm | grep -c '^uintripc-test-' || true)
echo "UINTR-SHM-LEFTOVERS=\$leftovers"
EOF
guest_files=(-f "$tests_dir:/opt/tests")
if [ -n "$bench_dir" ]; then
    # The harness's uintr rows, once and short (docs/benchmarks.md): without the plotting
    # libraries' native files (--no-plots), the other platforms' files and the gRPC server
    # (ASP.NET Core is not in the guest).
    cp -r "$bench_dir"/. "$bench_stage"
    find "$bench_stage/runtimes" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
    rm -rf "$bench_stage/runtimes/linux-x64/native" "$bench_stage/grpc-server"
    guest_files+=(-f "$bench_stage:/opt/bench")
    cat >> "$guest_script" <<EOF
cd /opt/bench
dotnet UintrIpc.Bench.dll --only =net-uintr-awake,=net-uintr-asleep --no-native --no-plots --iters 500 --sleep-iters 100 --warmup-ms 100 --timeout 120 --out /tmp/bench > /tmp/bench.log 2>&1
echo "UINTR-BENCH-RC=\$?"
grep '^| net-uintr' /tmp/bench/report.md | sed 's/^/UINTR-BENCH-ROW /'
grep -i 'user interrupts were' /tmp/bench/report.md | sed 's/^/UINTR-BENCH-SENTENCE /'
tail -n 5 /tmp/bench.log
EOF
fi
set +e
"$lab/run-guest.sh" -q -t "${UINTR_LAB_TIMEOUT:-540}" "${guest_files[@]}" "$guest_script" > "$guest_log"
guest_status=$?
set -e
# The runner's own output (progress, failures) without the encoded TRX.
sed '/^UINTR-TRX-BEGIN/,/^UINTR-TRX-END/d' "$guest_log" | grep -v '^UINTR-LAB-\(BEGIN\|END\)' || true
sed -n '/^UINTR-TRX-BEGIN/,/^UINTR-TRX-END/p' "$guest_log" | sed '1d;$d' | base64 -d > "$trx" 2>/dev/null || true
echo "uintr-lab: guest exit $guest_status, $(( $(date +%s) - start )) s (boot, tests, power-off)"
if ! grep -q '<Counters ' "$trx" 2>/dev/null; then
    echo "error: the emulated uintr machine returned no test results" >&2
    rm -f "$trx"
    exit 1
fi
if ! grep -q '^UINTR-SHM-LEFTOVERS=0$' "$guest_log"; then
    echo "error: the uintr tests left files in the guest's /dev/shm" >&2
    exit 1
fi
if [ -n "$bench_dir" ]; then
    # Both rows measured (a number in the p50 column, not "skipped" or "FAILED"), labelled emulated.
    rows=$(grep -c '^UINTR-BENCH-ROW | net-uintr-\(awake\|asleep\) | uintripc | slot-ring | uintr (emulated) | [a-z]* | [0-9]' "$guest_log" || true)
    if ! grep -q '^UINTR-BENCH-RC=0$' "$guest_log" || [ "$rows" -ne 2 ] || ! grep -q '^UINTR-BENCH-SENTENCE .*emulated CPU' "$guest_log"; then
        echo "error: the harness's uintr rows did not complete labelled as emulated in the emulated machine" >&2
        exit 1
    fi
    echo "uintr-lab: the harness's uintr rows completed in the emulated machine (labelled emulated; no ratio or target uses them)"
fi
