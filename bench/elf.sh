#!/usr/bin/env bash
# Benchmarks build-ID reading and debuginfo extraction on generated ELF files:
# buildid on a 1 MB vs a 1 GB file (should cost the same: headers and notes
# only), extract vs `objcopy --only-keep-debug` on the 1 GB file, and the
# peak RSS of extract (should stay flat: the copy is streamed).
# Usage: bench/elf.sh   (from anywhere in the repository; needs go, gcc, objcopy)
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"

if [[ ! -x /usr/bin/time ]]; then
	apt-get install -y -qq time >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/debuginfo" ./uploader/cmd/debuginfo
cat >"$work/hello.c" <<'C'
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
C
gcc -g -O1 -o "$work/hello" "$work/hello.c"

# A binary with a large debug section of random bytes (incompressible, so
# no filesystem or page-cache trick makes the big file cheap to read).
make_elf() { # SIZE OUT
	head -c "$1" /dev/urandom >"$work/blob"
	objcopy --add-section .debug_big="$work/blob" --set-section-flags .debug_big=readonly,debug \
		"$work/hello" "$2"
	rm -f "$work/blob"
}
make_elf 1M "$work/small"
make_elf 1G "$work/big"

now() { date +%s%N; }
# ms_per_run N CMD...: average wall time in ms over N runs (after one warm-up).
ms_per_run() {
	local n=$1
	shift
	"$@" >/dev/null
	local t0
	t0=$(now)
	for ((i = 0; i < n; i++)); do "$@" >/dev/null; done
	awk -v d="$(($(now) - t0))" -v n="$n" 'BEGIN { printf "%.2f", d / 1e6 / n }'
}
# run_rss CMD...: wall ms and peak RSS (KiB) of one run.
run_rss() {
	local t0 t1
	t0=$(now)
	/usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null
	t1=$(now)
	echo "$(((t1 - t0) / 1000000)) $(cat "$work/rss")"
}

small_bytes=$(stat -c %s "$work/small")
big_bytes=$(stat -c %s "$work/big")
bid_small=$(ms_per_run 20 "$work/debuginfo" buildid "$work/small")
bid_big=$(ms_per_run 20 "$work/debuginfo" buildid "$work/big")

cat "$work/big" >/dev/null # both extractors start from a warm page cache
read -r ex_ms ex_rss < <(run_rss "$work/debuginfo" extract --compress-debug-sections=none "$work/big" -o "$work/big.debuginfo")
read -r oc_ms oc_rss < <(run_rss objcopy --only-keep-debug "$work/big" "$work/big.objcopy")
(cd "$work" && ./debuginfo buildid big big.debuginfo big.objcopy 2>/dev/null) >"$work/ids"
read -r ex_small_ms ex_small_rss < <(run_rss "$work/debuginfo" extract --compress-debug-sections=none "$work/small" -o "$work/small.debuginfo")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<MD
### Build IDs and extraction: 1 MB vs 1 GB input

| measurement | 1 MB input ($small_bytes B) | 1 GB input ($big_bytes B) | ratio |
|---|---|---|---|
| \`debuginfo buildid\` wall time (mean of 20) | ${bid_small} ms | ${bid_big} ms | $(ratio "$bid_big" "$bid_small")x |
| \`debuginfo extract\` wall time | ${ex_small_ms} ms | ${ex_ms} ms | |
| \`objcopy --only-keep-debug\` wall time | | ${oc_ms} ms | extract/objcopy $(ratio "$ex_ms" "$oc_ms")x |
| \`debuginfo extract\` peak RSS | $((ex_small_rss / 1024)) MiB | $((ex_rss / 1024)) MiB | |
| \`objcopy --only-keep-debug\` peak RSS | | $((oc_rss / 1024)) MiB | |
| output size (extract / objcopy) | | $(stat -c %s "$work/big.debuginfo") / $(stat -c %s "$work/big.objcopy") B | |

Build IDs (input and both outputs should agree):
\`\`\`
$(cat "$work/ids")
\`\`\`
MD

# Many small files from a warm page cache: distinct GNU build IDs patched
# into copies of one binary.
go build -o "$work/mkbins" ./uploader/internal/benchtools/mkbins
"$work/mkbins" -n 10000 -out "$work/many" "$work/hello"
"$work/debuginfo" buildid "$work"/many/* >/dev/null # warm the cache
t0=$(now)
"$work/debuginfo" buildid "$work"/many/* >"$work/many.out"
many_ms=$((($(now) - t0) / 1000000))
distinct=$(awk '{print $3}' "$work/many.out" | sort -u | wc -l)
cat <<MD

### Build IDs of many small files

| measurement | files | distinct IDs | wall time | files/s |
|---|---:|---:|---:|---:|
| \`debuginfo buildid\` on small files, warm cache | 10000 | $distinct | ${many_ms} ms | $(awk -v m="$many_ms" 'BEGIN { if (m < 1) m = 1; printf "%.0f", 10000 / (m / 1000) }') |
MD
