# lib-rounds.sh: sourced by bench-sqld.sh and bench-kvd.sh, whose servers
# take turns for BENCH_ROUNDS rounds and print the rounds' medians.

# bench_rounds NAME: ROUNDS from BENCH_ROUNDS (default 3), 1 to 4 digits,
# at least 1; otherwise says so as NAME and exits 2 (before anything
# starts).
bench_rounds() {
    ROUNDS=${BENCH_ROUNDS:-3}
    if ! [[ $ROUNDS =~ ^[0-9]{1,4}$ ]] || ((10#$ROUNDS < 1)); then
        echo "$1: BENCH_ROUNDS must be a positive number, not '$ROUNDS'" >&2
        exit 2
    fi
    ROUNDS=$((10#$ROUNDS))
}

# median FORMAT NUMBER...: the middle number as given, or for an even
# count the mean of the middle two printed with FORMAT (printf's).
median() {
    local fmt=$1
    shift
    printf '%s\n' "$@" | sort -g | awk -v f="$fmt" '{ v[NR] = $1 }
        END { if (NR % 2) printf "%s", v[(NR + 1) / 2];
              else printf f, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
