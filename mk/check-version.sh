#!/bin/sh
# check-version.sh HEADER PREFIX VERSION: fail the build when the header's
# PREFIX_VERSION_MAJOR/MINOR/PATCH macros disagree with the VERSION file.
hdr=$1 p=$2 v=$3
maj=${v%%.*}; rest=${v#*.}; min=${rest%%.*}; pat=${rest#*.}
get() { sed -n "s/^#define ${p}_VERSION_$1 \([0-9]*\).*/\1/p" "$hdr"; }
if [ "$(get MAJOR)" != "$maj" ] || [ "$(get MINOR)" != "$min" ] || [ "$(get PATCH)" != "$pat" ]; then
    echo "$hdr: version macros say $(get MAJOR).$(get MINOR).$(get PATCH) but VERSION says $v" >&2
    exit 1
fi
