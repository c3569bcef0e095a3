#!/usr/bin/env bash
# run-suites.sh SUITE...: runs test suites one after another and ends with the
# single line "N passed, N failed" summed over all of them (docs/testing.md).
#
# A suite is an executable: a cmocka binary (counts read from its
# "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)" lines), a script
# (*.sh, *.py) printing the same lines, or a libFuzzer target (fuzz_*), run
# for FUZZ_RUNS executions and counted as one test. A suite that crashes, times
# out (SUITE_TIMEOUT seconds) or counts no test adds one failure.
set -u
FUZZ_RUNS=${FUZZ_RUNS:-100000}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-600}
LOGDIR=${TEST_LOGDIR:-${TMPDIR:-/tmp}/dsql-test-logs}
mkdir -p "$LOGDIR"
TOP_DIR=$(cd "$(dirname "$0")/.." && pwd)
# Suppressions for uninstrumented Debian libraries (tests/tsan.supp).
export TSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/tsan.supp ${TSAN_OPTIONS:-}"

total_pass=0
total_fail=0
failed_suites=()

for suite in "$@"; do
    name=$(basename "$suite")
    # Label: the part (libraft, daemons, tests) and the suite's file name.
    parent=$(basename "$(dirname "$suite")")
    case "$parent" in
        tests|fuzz|integration)
            dir=$(basename "$(dirname "$(dirname "$suite")")")
            case "$dir" in default|san-*) dir=tests ;; esac
            ;;
        *) dir=$parent ;;
    esac
    label="$dir/$name"
    log="$LOGDIR/${dir}_${name}.log"
    start=$(date +%s%N)
    case "$name" in
        fuzz_*)
            # New inputs go to FUZZ_CORPUS_DIR/<target> when set (make
            # fuzz), else to a scratch folder dropped afterwards; seeds
            # committed in <part>/tests/corpus/<target>/ are read too.
            if [ -n "${FUZZ_CORPUS_DIR:-}" ]; then
                corpus="$FUZZ_CORPUS_DIR/$name"
            else
                corpus=$(mktemp -d "${TMPDIR:-/tmp}/dsql-corpus-XXXXXX")
            fi
            mkdir -p "$corpus"
            seeds="$TOP_DIR/$dir/tests/corpus/$name"
            [ -d "$seeds" ] || seeds=
            # Crash inputs land beside the log, never in the source tree.
            timeout -k 10 "$SUITE_TIMEOUT" "$suite" -runs="$FUZZ_RUNS" -seed=1 \
                -artifact_prefix="$LOGDIR/${dir}_" "$corpus" $seeds >"$log" 2>&1
            rc=$?
            [ -n "${FUZZ_CORPUS_DIR:-}" ] || rm -rf "$corpus"
            [ $rc -eq 0 ] && echo "[  PASSED  ] 1 test(s)." >>"$log"
            ;;
        # Debian's python3: its packages (python3-pymysql) are what deps.sh
        # installs, whatever python3 comes first in PATH.
        *.py) timeout -k 10 "$SUITE_TIMEOUT" /usr/bin/python3 "$suite" >"$log" 2>&1; rc=$? ;;
        *.sh) timeout -k 10 "$SUITE_TIMEOUT" bash "$suite" >"$log" 2>&1; rc=$? ;;
        *) timeout -k 10 "$SUITE_TIMEOUT" "$suite" >"$log" 2>&1; rc=$? ;;
    esac
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    pass=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$log" |
           awk '{s+=$1} END {print s+0}')
    fail=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" |
           awk '{s+=$1} END {print s+0}')
    why=""
    if [ $rc -ne 0 ] && [ "$fail" -eq 0 ]; then
        fail=1
        if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
            why=" (timed out after ${SUITE_TIMEOUT}s)"
        else
            why=" (exit status $rc)"
        fi
    elif [ $((pass + fail)) -eq 0 ]; then
        fail=1
        why=" (ran no test)"
    fi
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
    if [ "$fail" -eq 0 ]; then
        printf 'PASS %-44s %4d tests %6d.%03ds\n' "$label" "$pass" \
            $((ms / 1000)) $((ms % 1000))
    else
        printf 'FAIL %-44s %d passed, %d failed%s; log: %s\n' \
            "$label" "$pass" "$fail" "$why" "$log"
        tail -n 80 "$log" | sed -e 's/^/    | /'
        failed_suites+=("$label")
    fi
done

[ ${#failed_suites[@]} -gt 0 ] && echo "failed suites: ${failed_suites[*]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
