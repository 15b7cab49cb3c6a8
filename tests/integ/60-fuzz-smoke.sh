#!/bin/sh
# Fuzz smoke test: build every libFuzzer harness (fuzz/fuzz_*.c, make
# fuzz-build) and run each for a few seconds from its seed corpus. Any
# crash, leak or sanitizer report fails. Skipped without clang and
# libFuzzer (Debian: clang, libclang-rt-14-dev). docs/fuzzing.md has the
# long runs; FUZZ_SMOKE_SECS changes the time per harness (default 1).
. "$(dirname "$0")/lib.sh"

secs=${FUZZ_SMOKE_SECS:-1}
cc=${FUZZ_CC:-clang}

command -v "$cc" >/dev/null 2>&1 || skip "skipped: $cc is not installed"
cat >"$T/probe.c" <<'PROBE'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
PROBE
"$cc" -fsanitize=fuzzer,address,undefined -o "$T/probe" "$T/probe.c" \
    >"$T/probe.log" 2>&1 ||
	skip "skipped: $cc cannot link -fsanitize=fuzzer (libclang-rt-14-dev missing?)"

cd "$TOP" || fail "no $TOP"
make -s -j2 BUILD="$BUILD" FUZZ_CC="$cc" fuzz-build >"$T/build.log" 2>&1 ||
	fail "make fuzz-build: $(tail -n 5 "$T/build.log")"
ok "harnesses built: $(ls "$BUILD"/fuzz/fuzz_* | wc -l)"

if FUZZ_WORKDIR="$T/fuzz" sh fuzz/run.sh "$BUILD" "$secs" >"$T/run.out" 2>&1
then
	cat "$T/run.out"
	ok "every harness ran ${secs}s without a finding"
else
	cat "$T/run.out"
	for f in "$T"/fuzz/artifacts/*; do
		[ -f "$f" ] && echo "artifact: $f ($(wc -c <"$f") bytes)"
	done
	KEEP=1
	fail "a harness found something (inputs kept in $T/fuzz/artifacts)"
fi
