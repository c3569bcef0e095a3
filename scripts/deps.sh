#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and `make run` need, and
# nothing else. Silent and fast when everything is present; runs
# `apt-get update` only when something is missing, and says what it installs.
set -euo pipefail

pkgs=(
    # toolchain
    make gcc clang pkg-config libclang-rt-14-dev python3
    # libraries the code links
    librocksdb-dev libnanopb-dev nanopb protobuf-compiler libevent-dev
    libmbedtls-dev libyaml-dev libjemalloc-dev libcmocka-dev
    # clients and tools the tests drive
    mariadb-client python3-pymysql sysbench procps util-linux curl iproute2
    # the peers benchmarks and differential tests compare with (MariaDB for
    # sqld, etcd for replicated KV); our scripts start their own instances
    # as the current user, never the system services
    mariadb-server etcd-server etcd-client
)

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    sudo=sudo
    command -v sudo >/dev/null || {
        echo "deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
        exit 1
    }
else
    sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${#missing[@]} package(s)"
