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

# When a case failed: every live process the suite started gets its
# threads' stacks written to stacks-<name>-<pid>.txt in the scratch
# directory (a daemon that stopped answering shows where it waits; a
# silent log does not). Needs gdb; without it, nothing.
t_dump_stacks() {
    command -v gdb >/dev/null 2>&1 || return 0
    local p name
    for p in "${T_PIDS[@]}"; do
        [ -r "/proc/$p/comm" ] || continue
        name=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        timeout 30 gdb -p "$p" -batch -nx -ex "thread apply all bt" \
            >"$T_TMP/stacks-$name-$p.txt" 2>&1 </dev/null || true
    done
}

# On exit: stop what the suite started; when a case failed, show the end of
# every daemon log and keep the scratch directory (data and logs) to look at.
t_cleanup() {
    if [ "$T_FAILED" -gt 0 ] || [ "$T_CUR_OK" -eq 0 ]; then
        t_dump_stacks
    fi
    for p in "${T_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    if [ "$T_FAILED" -gt 0 ] || [ "$T_CUR_OK" -eq 0 ]; then
        local f
        while IFS= read -r f; do
            echo "---- ${f#"$T_TMP"/} (last 30 lines)"
            tail -n 30 "$f"
        done < <(find "$T_TMP" -maxdepth 4 -name '*.log' ! -name '[0-9]*.log' \
                     -type f 2>/dev/null | sort)
        echo "lib.sh: a case failed; kept $T_TMP (data and logs)"
        # the failed checks again, last, where a truncated log shows them
        printf 'lib.sh: failed: %s\n' "${T_FAILS[@]}"
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

T_FAILS=()
t_fail() {
    echo "    $T_CUR: $*"
    T_FAILS+=("$T_CUR: $*")
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

# t_cases_from FILE: a case per line "CASE <name> OK" in FILE (what a
# script driving the daemons printed, one line per check); a line that
# does not end in " OK" fails its case and is shown.
t_cases_from() {
    local line name
    while IFS= read -r line; do
        case "$line" in
        "CASE "*)
            name="${line#CASE }"
            t_case "${name% OK}"
            case "$line" in *" OK") ;; *) t_fail "$line";; esac
            ;;
        esac
    done <"$1"
}

# A daemon that died of a bug logs a FATAL line (docs/daemons.md); one the
# suite did not notice fails the suite here, with the lines shown. A suite
# that sends fatal signals on purpose sets T_EXPECT_FATAL=1.
T_EXPECT_FATAL=0
t_check_fatal() {
    local hits
    [ "$T_EXPECT_FATAL" = 1 ] && return 0
    hits=$(grep -r -h -A12 --include='*.log' -e ' FATAL ' "$T_TMP" 2>/dev/null) || return 0
    t_case "no daemon died of a fatal signal"
    t_fail "a daemon logged a fatal signal:"
    printf '%s\n' "$hits" | head -n 60
}

t_end() {
    t_check_fatal
    t_close_case
    [ "$T_PASSED" -gt 0 ] && echo "[  PASSED  ] $T_PASSED test(s)."
    [ "$T_FAILED" -gt 0 ] && echo "[  FAILED  ] $T_FAILED test(s), listed above."
    [ "$T_FAILED" -eq 0 ]
}

# ---- Stores over a fixed cluster map -------------------------------------
# t_link_peers I: store I's peers map (of stores 1-3) when the stores
# talk through netproxy.py links: itself by its own port, store j by the
# suite's LINK[I-j] (store I's connections to store j).
t_link_peers() {
    local j peers=""
    for j in 1 2 3; do
        if [ "$1" = "$j" ]; then
            peers+="${peers:+,}$j@127.0.0.1:$(port "$j")"
        else
            peers+="${peers:+,}$j@127.0.0.1:${LINK[$1-$j]}"
        fi
    done
    echo "$peers"
}

# t_kvd_ports FIRST LAST [N]: picks a slot (t_pick_base, so call it
# directly) for N stores (3): store i listens on B+i. Sets BASE, PEERS (the
# map of stores 1..N), CTL (`kvd ctl` over PEERS, an array) and PID (an
# associative array the suite fills: store i's pid); `port I` prints B+I.
t_kvd_ports() {
    local i n=${3:-3}
    t_pick_base "$1" "$2"
    BASE=$T_BASE
    PEERS=""
    for i in $(seq 1 "$n"); do PEERS+="${PEERS:+,}$i@127.0.0.1:$((BASE + i))"; done
    CTL=("$BIN/kvd" ctl "--peers=$PEERS" --timeout=60)
    declare -g -A PID
}
port() { echo $((BASE + $1)); }

# t_kvd_start I [FLAG...]: kvd I (again, after a kill: same data directory)
# on the fixed map, raft tick 50ms, log $T_TMP/kvdI.log, with FLAGs; its
# pid in PID[I]. Returns at once.
t_kvd_start() {
    local i=$1
    shift
    "$BIN/kvd" --data-dir="$T_TMP/kvd$i" --store-id="$i" \
        --listen="127.0.0.1:$((BASE + i))" --peers="$PEERS" \
        --raft.tick-interval=50ms "$@" --log.file="$T_TMP/kvd$i.log" &
    PID[$i]=$!
    T_PIDS+=("${PID[$i]}")
}

# t_kvd_leader_seen_by I: the leader of region 1 as store I sees it (0
# unknown, empty when I does not answer).
t_kvd_leader_seen_by() {
    "$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$1")" status 2>/dev/null |
        sed -n 's/.*"region_list":\[{[^]]*"leader":\([0-9]*\).*/\1/p'
}

# t_kvd_leader_wait I: the leader of region 1 as store I sees it, waiting
# up to 20 s for one (a loaded machine may be between leaders); 0 if none.
t_kvd_leader_wait() {
    local l
    for _ in $(seq 1 200); do
        l=$(t_kvd_leader_seen_by "$1")
        [ -n "$l" ] && [ "$l" != 0 ] && { echo "$l"; return 0; }
        sleep 0.1
    done
    echo 0
}

# ---- A cluster on loopback: one pdd, three kvd, one sqld ----------------
# t_cluster_ports FIRST LAST: picks a slot (t_pick_base, so call it
# directly) and names its ports: kvd i on B+i (i = 1..3), pdd on B+11,
# sqld's MySQL port on B+15. Sets BASE, PEERS, PD, PDCTL (pdctl with its
# flags, an array) and SQLPORT; `t_port N` prints B+N.
t_cluster_ports() {
    t_pick_base "$1" "$2"
    BASE=$T_BASE
    PEERS="1@127.0.0.1:$((BASE + 1)),2@127.0.0.1:$((BASE + 2)),3@127.0.0.1:$((BASE + 3))"
    PD="127.0.0.1:$((BASE + 11))"
    PDCTL=("$BIN/pdctl" "--pd=$PD" --timeout=20000)
    SQLPORT=$((BASE + 15))
}
t_port() { echo $((BASE + $1)); }

# Stores pdd counts as up.
t_stores_up() { "${PDCTL[@]}" store 2>/dev/null | grep -c ' state up'; }

# What t_start_cluster starts, beyond the common flags (set any of these
# before it; each is also read by the t_start_* below):
T_PD_ARGS=()    # more flags for pdd
T_KVD_ARGS=()   # more flags for every kvd
T_KVD_STATUS="" # if set, kvd i serves /status and /metrics on B+this+i
T_SQLD_ARGS=()  # more flags for sqld
T_PD_PID=""     # pdd's pid
T_KVD_PID=()    # kvd i's pid at index i
T_SQLD_PID=""   # sqld's pid

# t_start_pdd: pdd (raft tick 50ms) on $PD with T_PD_ARGS, data and log
# in $T_TMP/pd1.
t_start_pdd() {
    "$BIN/pdd" --name=pd1 --listen="$PD" --initial-members="pd1=$PD" \
        --data-dir="$T_TMP/pd1" --log.file="$T_TMP/pd1.log" --raft.tick=50ms \
        ${T_PD_ARGS[@]+"${T_PD_ARGS[@]}"} &
    T_PD_PID=$!
    T_PIDS+=("$T_PD_PID")
}

# t_start_kvd I: kvd I (again, after a kill: same data directory), with
# T_KVD_ARGS; returns at once.
t_start_kvd() {
    local i=$1 st=()
    [ -n "$T_KVD_STATUS" ] &&
        st=("--status-listen=127.0.0.1:$((BASE + T_KVD_STATUS + i))")
    "$BIN/kvd" --data-dir="$T_TMP/kvd$i" --store-id="$i" \
        --listen="127.0.0.1:$((BASE + i))" --peers="$PEERS" \
        --initial-stores=1,2,3 --raft.tick-interval=50ms \
        --pd="$PD" --pd.heartbeat-interval=200ms \
        ${st[@]+"${st[@]}"} ${T_KVD_ARGS[@]+"${T_KVD_ARGS[@]}"} \
        --log.file="$T_TMP/kvd$i.log" &
    T_KVD_PID[$i]=$!
    T_PIDS+=("$!")
}

# t_start_sqld [LOG]: sqld on the cluster (log $T_TMP/LOG, sqld.log by
# default) with T_SQLD_ARGS, waiting until it serves MySQL on SQLPORT;
# returns 1 (the case failed) if it does not within 60 s.
t_start_sqld() {
    local log=$T_TMP/${1:-sqld.log}
    "$BIN/sqld" --data-dir="$T_TMP/sqld" --log.file="$log" \
        --listen="127.0.0.1:$SQLPORT" --store=cluster --pd="$PD" \
        ${T_SQLD_ARGS[@]+"${T_SQLD_ARGS[@]}"} &
    T_SQLD_PID=$!
    T_PIDS+=("$T_SQLD_PID")
    t_wait_for_grep "serving MySQL on" "$log" 60 && return 0
    t_fail "sqld did not start"
    return 1
}

# t_start_cluster [--no-sqld]: pdd, three kvd, waits (60 s) until pdd
# counts the three stores up, then sqld (t_start_sqld). Returns 1, with the
# current case failed, if a wait ran out.
t_start_cluster() {
    local i got
    t_start_pdd
    for i in 1 2 3; do t_start_kvd "$i"; done
    got=$(t_wait_output 3 60 t_stores_up) || {
        t_fail "stores up: '$got'"
        return 1
    }
    [ "${1:-}" = --no-sqld ] && return 0
    t_start_sqld
}

# t_rows_apart DB.TABLE: two adjacent rows of TABLE (integer handles)
# in two regions led by two kvd, for waits that sit on different stores.
# Waits (120 s) until TABLE has split (the caller fills it past the
# region size), holds pdd's balance-leader (t_rows_apart_end gives it
# back) and moves the leader of TABLE's second region off the store of
# the first one if they share it. Sets T_ROW2, the second region's first
# handle (T_ROW2 - 1 is in the first region), T_LEADER1 and T_LEADER2.
# Returns 1 (the case failed) if a wait ran out.
t_rows_apart() {
    local tab=$1 got r2 k2 to
    # "REGION_ID START_KEY LEADER_STORE_ID" of TABLE's regions in key
    # order (the first one starts before the table: "-" for the first key)
    t__regions() {
        mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --skip-ssl -N -B \
            -e "SHOW TABLE $tab REGIONS" 2>&1 |
            awk -F'\t' '{ print $1, ($2 == "" ? "-" : $2), $5 }'
    }
    t__two() { [ "$(t__regions | wc -l)" -ge 2 ] && echo yes; }
    got=$(t_wait_output yes 120 t__two) || {
        t_fail "$tab not split: $(t__regions)"
        return 1
    }
    T_TOL=$("${PDCTL[@]}" config show 2>/dev/null | sed -n 's/^leader-tolerance: //p')
    t_expect_eq "hold balance-leader" \
        "$("${PDCTL[@]}" config set leader-tolerance 1000000 2>&1)" ok
    read -r r2 k2 T_LEADER2 <<<"$(t__regions | sed -n 2p)"
    T_ROW2=${k2##*_}
    T_LEADER1=$(t__regions | awk 'NR == 1 { print $3 }')
    if [ "$T_LEADER1" = "$T_LEADER2" ]; then
        to=$((T_LEADER1 % 3 + 1))
        t_move_leader "$r2" "$to" || {
            t_fail "leader of $r2 not moved: $(t__regions)"
            return 1
        }
        T_LEADER2=$to
    fi
    echo "    rows $((T_ROW2 - 1)) and $T_ROW2: regions led by stores $T_LEADER1 and $T_LEADER2"
    [ -n "$T_LEADER1" ] && [ "$T_LEADER1" != "$T_LEADER2" ] || {
        t_fail "one store leads both: $(t__regions)"
        return 1
    }
}
# t_region_leader REGION: the store leading REGION as pdd last heard
# (`pdctl region`: the leader peer's ID@STORE among its peers).
t_region_leader() {
    "${PDCTL[@]}" region 2>/dev/null | awk -v r="$1" '
        $1 == "region" && $2 == r {
            for (i = 1; i < NF; i++) if ($i == "leader") l = $(i + 1)
            for (i = 1; i <= NF; i++)
                if (index($i, l "@") == 1) {
                    s = substr($i, length(l) + 2); sub(/[^0-9].*/, "", s)
                    print s
                }
        }'
}

# t_move_leader REGION STORE: moves REGION's leadership to STORE through
# pdd and waits (60 s) until pdd reports it; 1 if it did not move. The
# operator is added again while the leader has not moved: a split of the
# region (its epoch changed) cancels it, and pdd refuses a second one
# while one runs.
t_move_leader() {
    t__leader_moved() {
        if [ "$(t_region_leader "$1")" = "$2" ]; then
            echo yes
        else
            "${PDCTL[@]}" operator add transfer-leader "$1" "$2" >/dev/null 2>&1
        fi
    }
    t_wait_output yes 60 t__leader_moved "$1" "$2" >/dev/null
}

t_rows_apart_end() {
    t_expect_eq "balance-leader again" \
        "$("${PDCTL[@]}" config set leader-tolerance "$T_TOL" 2>&1)" ok
}

# t_stop_cluster: SIGTERM to sqld, the kvd, then pdd, each waited for
# (30 s; then SIGKILL). Daemons already gone are skipped. Returns 1 if
# one did not exit, or exited with a status other than 0, naming it in
# T_STOP_BAD.
t_stop_cluster() {
    local p n i names=(sqld) bad=""
    for i in ${!T_KVD_PID[@]}; do names+=("kvd$i"); done
    names+=(pdd)
    n=0
    for p in "$T_SQLD_PID" ${T_KVD_PID[@]+"${T_KVD_PID[@]}"} "$T_PD_PID"; do
        n=$((n + 1))
        [ -n "$p" ] || continue
        kill "$p" 2>/dev/null || continue
        if ! t_wait_exit "$p" 30; then
            kill -9 "$p" 2>/dev/null
            wait "$p" 2>/dev/null
            bad+=" ${names[$((n - 1))]}=timeout"
        elif [ "$T_RC" != 0 ]; then
            bad+=" ${names[$((n - 1))]}=$T_RC"
        fi
    done
    T_SQLD_PID=""
    T_KVD_PID=()
    T_PD_PID=""
    T_STOP_BAD=${bad# }
    [ -z "$bad" ]
}
