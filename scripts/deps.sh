#!/bin/sh
# Installs every Debian package that the build, the tests and the benchmarks need.
# Safe to run again; needs root (or sudo).
set -eu
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
	build-essential pkg-config ca-certificates \
	libev-dev libwslay-dev libmsgpack-dev libbsd-dev check \
	libsodium-dev libssl-dev libinih-dev libjansson-dev libqrencode-dev zlib1g-dev libsystemd-dev \
	coturn stun-client nftables iproute2 conntrack iperf3 ethtool curl openssl procps psmisc jq \
	systemd man-db groff-base mandoc socat valgrind haproxy \
	clang libclang-rt-14-dev \
	debootstrap systemd-container \
	libminiupnpc-dev libnatpmp-dev miniupnpd-nftables \
	zbar-tools iputils-ping chromium
# clang + libclang-rt-14-dev: make fuzz. On Debian 12 -fsanitize=fuzzer links
# libclang_rt.fuzzer-x86_64.a from libclang-rt-14-dev (libfuzzer-14-dev only
# carries a standalone libFuzzer.a, which the build does not use).
# libminiupnpc-dev, libnatpmp-dev: punchd's port mapping (UPnP IGD, NAT-PMP).
# miniupnpd-nftables: the real gateway of tests/natlab/30-portmap.sh (run
# there by the test only; its package may start a system service, which
# does nothing useful without a configured ext_ifname).
# valgrind: tests/integ/80-valgrind.sh (skipped without it).
# chromium: headless, tests/integ/07-browser.sh and web/'s npm run test:e2e
# drive the browser member over its DevTools protocol (skipped without it).
# zbar-tools (zbarimg): tests/integ/23-invite-fields.sh reads meshctl's QR
# code back (that part skipped without it).
# debootstrap + systemd-container (systemd-nspawn): tests/integ/57-systemd-boot.sh
# boots the installed units under a real systemd in a Debian container (the
# root file system is downloaded once and cached in /var/cache/atmosphere-test).
# node (for the WebSocket interop test with the npm "ws" package): the image may carry its own
# node; install Debian's only when there is none.
command -v node >/dev/null 2>&1 || $SUDO apt-get install -y -q --no-install-recommends nodejs npm
# promtool, for `promtool check metrics` in tests/integ/58-metrics.sh: only
# the binary, taken out of Debian's prometheus package (19 MB). Installing
# the package would pull ~100 MB and start a Prometheus server from its init
# script. Without it the test still checks the text with its own strict reader.
if ! command -v promtool >/dev/null 2>&1; then
	d=$(mktemp -d)
	if (cd "$d" && apt-get download -q prometheus >/dev/null 2>&1 &&
	    dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool); then
		$SUDO install -m 0755 "$d/usr/bin/promtool" /usr/local/bin/promtool
	else
		echo "deps.sh: promtool not installed (58-metrics uses its own reader)"
	fi
	rm -rf "$d"
fi
# web/: the browser member's npm packages (libsodium-wrappers, esbuild; pinned
# by web/package-lock.json) and its bundle web/dist/, which relayd serves and
# tests/integ/06-web-vectors.sh checks against the C code
(cd "$(dirname "$0")/../web" && npm ci --no-audit --no-fund && npm run build)
