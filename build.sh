#!/bin/bash
# build.sh: set up, build, run and test vmatlas on Debian 12 (as root, or with sudo).
#
#   ./build.sh run    install what is missing, build, and run vmatlasd with built-in defaults
#   ./build.sh test   install what is missing, build (normal, and ASan+UBSan with clang and the
#                     libFuzzer targets), and run the whole test suite in both builds
#   ./build.sh package  install what is missing, build, and make build/vmatlasd_*.deb
#
# Extra arguments after "run" go to vmatlasd (e.g. ./build.sh run --once).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DEPS=(gcc cmake ninja-build pkg-config libmicrohttpd-dev libjansson-dev libsystemd-dev
            libcurl4-openssl-dev libinih-dev zlib1g-dev libgnutls28-dev libseccomp-dev)
# dpkg-dev and file: dpkg-shlibdeps computes the .deb's Depends (CPack finds ELF files with file).
PACKAGE_DEPS=(dpkg-dev file)
# lintian checks the .deb, man-db renders the man page with warnings on; systemd-container
# (systemd-nspawn) and debootstrap boot a real systemd for tests/packaging/nspawn.sh (installing
# systemd-container also brings the host's systemd packages to its version). jq, openssl and
# iproute2 serve the HTTP tests (JSON, TLS certificates, a network namespace). chromium,
# firefox-esr and python3: tests/http/dashboard.sh checks the dashboard in headless Chromium
# (DevTools protocol) and Firefox (WebDriver BiDi), driven from Python scripts that need only
# the standard library.
TEST_DEPS=(clang libclang-rt-14-dev curl jq openssl iproute2 prometheus "${PACKAGE_DEPS[@]}"
           lintian man-db systemd-container debootstrap chromium firefox-esr python3)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Install the packages that are not installed yet (apt-get only when something is missing).
install_missing() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "build.sh: installing ${missing[*]}" >&2
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
}

configure_build() { # DIR [cmake args...]
    local dir=$1; shift
    cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
    ninja -C "$dir"
}

run_tests() { # DIR
    (cd "$1" && ctest --output-on-failure -j"$(nproc)" --timeout 900)
}

case "${1:-}" in
run)
    shift
    install_missing "${BUILD_DEPS[@]}"
    configure_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMATLAS_TESTS=OFF
    exec ./build/vmatlasd "$@"
    ;;
test)
    install_missing "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}"
    echo "== normal build (gcc) =="
    configure_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMATLAS_TESTS=ON
    run_tests build
    echo "== ASan+UBSan build (clang, with libFuzzer targets) =="
    configure_build build-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        -DVMATLAS_TESTS=ON -DVMATLAS_SANITIZE=ON -DVMATLAS_FUZZ=ON
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        run_tests build-asan
    ;;
package)
    install_missing "${BUILD_DEPS[@]}" "${PACKAGE_DEPS[@]}"
    configure_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMATLAS_TESTS=OFF
    rm -f build/vmatlasd_*.deb
    (cd build && cpack -G DEB >/dev/null)
    ls build/vmatlasd_*.deb
    ;;
*)
    sed -n '2,10p' "$0" >&2
    exit 2
    ;;
esac
