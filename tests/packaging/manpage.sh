#!/bin/bash
# manpage.sh VMATLASD: packaging/vmatlasd.8 renders without a warning, names the daemon's
# version, and documents every flag of `vmatlasd --help` with the default the help states;
# packaging/vmatlasd.conf lists every flag that the help says the config file may set, at
# that default, and the daemon accepts the file with every key uncommented.
set -euo pipefail
VMATLASD=${1:?usage: manpage.sh VMATLASD}
src=$(cd "$(dirname "$0")/../../packaging" && pwd)
man=$src/vmatlasd.8 conf=$src/vmatlasd.conf
command -v man >/dev/null ||
    { echo "manpage.sh: no man (apt-get install man-db); skipping"; exit 77; }
fails=0
fail() { echo "manpage.sh: FAIL: $*"; fails=$((fails + 1)); }

# Rendering, as lintian does it.
warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$man" 2>&1 \
           >/dev/null || echo "man exited with status $?")
[ -z "$warnings" ] || fail "man --warnings -l packaging/vmatlasd.8:"$'\n'"$warnings"

version=$("$VMATLASD" --version | awk '{ print $2 }')
grep -q "^\.TH VMATLASD 8 [0-9-]* \"vmatlas $version\"" "$man" ||
    fail "the .TH line does not name version $version: $(grep '^\.TH' "$man")"

help=$("$VMATLASD" --help)
flags=$(sed -n 's/^  --\([a-z-]*\).*/\1/p' <<<"$help")
[ "$(wc -l <<<"$flags")" -ge 10 ] || fail "too few flags in --help: $flags"
# "Every option but --config, --once, ... can be set in the config file"
not_in_file=$(sed -n '/^Every option but/,/config file/p' <<<"$help" | grep -o -- '--[a-z-]*' |
              sed 's/^--//' || true)
[ -n "$not_in_file" ] || fail "--help no longer says which options the config file cannot set"

roff() { sed 's/-/\\-/g' <<<"$1"; } # deep-walk-budget -> deep\-walk\-budget
for flag in $flags; do
    # Its item in OPTIONS: ".TP", then ".B \-\-FLAG", ".BI \-\-FLAG ..." or ".BR \-\-FLAG ...",
    # up to the next ".TP".
    item=$(H="\\-\\-$(roff "$flag")" awk '
        BEGIN { h = ENVIRON["H"] }
        !on && prev == ".TP" && /^\.B[IR]? / && index($0, " " h) == index($0, " ") {
            next_char = substr($0, index($0, " ") + 1 + length(h), 1)
            if (next_char == "" || next_char == " " || next_char == "[") { on = 1; print; next }
        }
        on && $0 == ".TP" { exit }
        on { print }
        { prev = $0 }' "$man")
    [ -n "$item" ] || fail "--$flag (in --help) has no item in OPTIONS of vmatlasd.8"
    # The default the help states: "(default 10)", "(repeatable; default 127.0.0.1:9477, ...)",
    # "(default auto: PAGEMAP_SCAN, ...)".
    default=$(grep -E -- "^  --$flag([ =[]|$)" <<<"$help" | grep -o 'default [^,);]*' | head -1 |
              awk '{ sub(/:$/, "", $2); print $2 }' || true)
    if [ -n "$default" ] && ! grep -A1 '^Default' <<<"$item" | grep -qF -- "$default"; then
        fail "--$flag: vmatlasd.8 does not give the default \"$default\" that --help states"
    fi
    grep -qx -- "$flag" <<<"$not_in_file" && continue
    # A config key: an item of CONFIGURATION FILE, and a "#key = default" line in the conf.
    grep -E '^\.B[IR] "' "$man" | grep -qF -- "\"$(roff "$flag") = \"" ||
        fail "config key $flag has no item in CONFIGURATION FILE of vmatlasd.8"
    line=$(grep -E "^#?$flag = " "$conf" || true)
    if [ -z "$line" ]; then
        fail "config key $flag is missing from packaging/vmatlasd.conf"
    elif [ -n "$default" ] && [ "${line#*= }" != "$default" ]; then
        fail "packaging/vmatlasd.conf has \"$line\", but --help says the default is $default"
    fi
done

# Every key of the conf is a flag, and the daemon takes them all, uncommented, as they are.
for key in $(sed -n 's/^#\{0,1\}\([a-z-]*\) = .*/\1/p' "$conf"); do
    grep -qx -- "$key" <<<"$flags" ||
        fail "packaging/vmatlasd.conf has $key, which --help does not know"
done
tmp=$(mktemp)
stub=$(mktemp -d)
trap 'rm -rf "$tmp" "$stub"' EXIT
# Keys that name files (token, TLS, peers) are checked by reading them: the example paths under
# /etc/vmatlas point at stand-ins here (a token, an empty peers file, a CA, a key and a
# certificate made for the occasion).
mkdir -p "$stub/tls"
printf '%064d\n' 0 >"$stub/token"
: >"$stub/peers"
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=t \
        -keyout "$stub/tls/key.pem" -out "$stub/tls/cert.pem" 2>/dev/null
    cp "$stub/tls/cert.pem" "$stub/tls/clients-ca.pem"
    cp "$stub/tls/cert.pem" "$stub/peers-ca.pem"
fi
sed -e 's/^#\([a-z-]* = \)/\1/' -e "s|/etc/vmatlas/|$stub/|" "$conf" >"$tmp"
out=$("$VMATLASD" --config "$tmp" --check-config 2>&1) ||
    fail "vmatlasd --check-config on vmatlasd.conf with every key uncommented: $out"
out=$("$VMATLASD" --config "$conf" --check-config 2>&1) ||
    fail "vmatlasd --check-config on vmatlasd.conf: $out"

[ "$fails" -eq 0 ] || exit 1
echo "manpage.sh: ok ($(wc -l <<<"$flags") flags, version $version)"
