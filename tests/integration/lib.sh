# lib.sh: a tiny harness for integration suites written in bash. Each
# `t_case NAME` starts a case; `t_fail MSG` fails the current one; `t_end`
# prints cmocka-style summary lines that tests/run-suites.sh counts.
# BUILD_DIR (set by the top Makefile) says where the binaries are.
set -u
BUILD_DIR=${BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/default}
BIN=$BUILD_DIR/daemons/bin
T_PASSED=0
T_FAILED=0
T_CUR=""
T_CUR_OK=1
T_TMP=$(mktemp -d /tmp/dsql-it-XXXXXX)
T_PIDS=()

# On exit: stop what the suite started; when a case failed, show the end of
# every daemon log and keep the scratch directory (data and logs) to look at.
t_cleanup() {
    for p in "${T_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    if [ "$T_FAILED" -gt 0 ] || [ "$T_CUR_OK" -eq 0 ]; then
        local f
        while IFS= read -r f; do
            echo "---- ${f#"$T_TMP"/} (last 30 lines)"
            tail -n 30 "$f"
        done < <(find "$T_TMP" -maxdepth 4 -name '*.log' ! -name '[0-9]*.log' \
                     -type f 2>/dev/null | sort)
        echo "lib.sh: a case failed; kept $T_TMP (data and logs)"
    else
        rm -rf "$T_TMP"
    fi
}
trap t_cleanup EXIT

# t_pick_base FIRST LAST: sets T_BASE to a base port in [FIRST, LAST]
# (slots 20 apart) that no other suite holds and whose next 19 ports nobody
# listens on, so two `make test` runs on one machine never share daemons.
# The slot stays held (a lock file) until this suite exits. Call it
# directly, not in $(...): the lock lives in this shell. Ranges stay below
# 32768, where Linux's ephemeral ports begin: a port up there may be taken
# by any outgoing connection between the check and the daemon's bind.
t_pick_base() {
    local b i fd
    for b in $(seq "$1" 20 "$2"); do
        exec {fd}>"/tmp/dsql-port-slot-$b.lock" || continue
        if ! flock -n "$fd"; then exec {fd}>&-; continue; fi
        for i in $(seq 1 19); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$((b + i))") 2>/dev/null; then
                exec {fd}>&-
                continue 2
            fi
        done
        T_BASE=$b
        return 0
    done
    T_BASE=$1
}

t_close_case() {
    [ -z "$T_CUR" ] && return
    if [ "$T_CUR_OK" -eq 1 ]; then
        echo "[       OK ] $T_CUR"; T_PASSED=$((T_PASSED + 1))
    else
        echo "[  FAILED  ] $T_CUR"; T_FAILED=$((T_FAILED + 1))
    fi
    T_CUR=""
}

t_case() {
    t_close_case
    T_CUR=$1
    T_CUR_OK=1
    echo "[ RUN      ] $T_CUR"
}

t_fail() {
    echo "    $T_CUR: $*"
    T_CUR_OK=0
}

# t_expect_eq WHAT GOT WANT
t_expect_eq() {
    [ "$2" = "$3" ] || t_fail "$1: got '$2', want '$3'"
}

# t_expect_grep WHAT PATTERN FILE: FILE has a line matching the fixed string.
t_expect_grep() {
    grep -qF -- "$2" "$3" || { t_fail "$1: no '$2' in $3:"; sed 's/^/      /' "$3"; }
}

# t_wait_for_grep PATTERN FILE SECONDS: waits until FILE has PATTERN.
t_wait_for_grep() {
    local deadline=$((SECONDS + $3))
    while [ $SECONDS -lt "$deadline" ]; do
        grep -qF -- "$1" "$2" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# t_wait_output WHAT SECONDS CMD...: until CMD's output equals WHAT; on
# timeout prints the last output and returns 1.
t_wait_output() {
    local want=$1 secs=$2 deadline got=""
    shift 2
    deadline=$((SECONDS + secs))
    while [ $SECONDS -lt $deadline ]; do
        got=$("$@")
        [ "$got" = "$want" ] && return 0
        sleep 0.2
    done
    echo "$got"
    return 1
}

# t_wait_exit PID SECONDS: waits for a child to exit; sets T_RC.
t_wait_exit() {
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        if [ $SECONDS -ge "$deadline" ]; then T_RC=timeout; return 1; fi
        sleep 0.05
    done
    wait "$1"; T_RC=$?
    return 0
}

t_end() {
    t_close_case
    [ "$T_PASSED" -gt 0 ] && echo "[  PASSED  ] $T_PASSED test(s)."
    [ "$T_FAILED" -gt 0 ] && echo "[  FAILED  ] $T_FAILED test(s), listed above."
    [ "$T_FAILED" -eq 0 ]
}
