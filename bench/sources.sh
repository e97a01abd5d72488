#!/usr/bin/env bash
# Benchmarks `debuginfo sources` on a generated C program with N .c files and
# N headers (default N=1100, so 2,200 source files plus a shared header),
# compiled with -g and relative paths. Prints a markdown table.
# Usage: bench/sources.sh [N]
set -euo pipefail

n=${1:-1100}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/debuginfo" "$repo/uploader/cmd/debuginfo"

src="$work/prog"
mkdir -p "$src/src" "$src/include/common"
cat >"$src/include/common/common.h" <<'H'
#ifndef COMMON_H
#define COMMON_H
static inline int mix(int a, int b) { return (a * 31) ^ (b + 7); }
#endif
H
for ((i = 0; i < n; i++)); do
	d=$((i % 20))
	mkdir -p "$src/include/mod$d" "$src/src/mod$d"
	{
		printf '#ifndef M%d_H\n#define M%d_H\n#include "common/common.h"\n' "$i" "$i"
		# Some body so raw sizes are realistic (about 1.5 KB a header).
		for ((k = 0; k < 12; k++)); do
			printf 'static inline int m%d_f%d(int x) { /* helper %d of module %d */ return mix(x, %d); }\n' "$i" "$k" "$k" "$i" "$k"
		done
		printf 'int m%d(int);\n#endif\n' "$i"
	} >"$src/include/mod$d/m$i.h"
	{
		printf '#include "mod%d/m%d.h"\n' "$d" "$i"
		printf 'int m%d(int x) { return m%d_f0(x) + m%d_f11(x); }\n' "$i" "$i" "$i"
	} >"$src/src/mod$d/m$i.c"
done
{
	for ((i = 0; i < n; i++)); do printf 'int m%d(int);\n' "$i"; done
	printf 'int main(void) { int s = 0;\n'
	for ((i = 0; i < n; i++)); do printf 's += m%d(%d);\n' "$i" "$i"; done
	printf 'return s & 1; }\n'
} >"$src/src/main.c"

# Compile from the program's root with relative paths, two at a time.
(cd "$src" && find src -name '*.c' | sort | xargs -P 2 -n 50 gcc -g -O1 -Iinclude -c &&
	gcc -g -o prog ./*.o) >/dev/null

start=$(date +%s%N)
"$work/debuginfo" sources "$src/prog" -o "$work/prog.sources.tar.zst" --source-root "$src" --exclude 'usr/**' --json >"$work/summary.json"
end=$(date +%s%N)

files=$(sed -n 's/^  "files": \([0-9]*\),$/\1/p' "$work/summary.json")
raw=$(sed -n 's/^  "bytes": \([0-9]*\),$/\1/p' "$work/summary.json")
size=$(stat -c %s "$work/prog.sources.tar.zst")
ms=$(((end - start) / 1000000))

echo "### Source archive of a generated C program"
echo
echo "| source files in DWARF | files archived | raw size | archive size | time |"
echo "|---:|---:|---:|---:|---:|"
printf '| %d | %d | %d bytes | %d bytes | %d ms |\n' $((2 * n + 2)) "$files" "$raw" "$size" "$ms"

# Listing the sources of large binaries: memory must not grow with the
# DWARF. Inputs: a gcc -g program whose .debug_str carries 128 MiB more
# strings (plain, and zlib-compressed), and Parca's binary (a 231 MB Go
# program with compressed DWARF) when tests/parca/build.sh has built it.
# Run from an empty directory, so the time is the DWARF reading (and a
# stat per file), not the archiving.
command -v /usr/bin/time >/dev/null || { echo "(large-binary table skipped: no /usr/bin/time)"; exit 0; }
big="$work/big"
mkdir "$big"
printf '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' >"$big/prog.c"
(cd "$big" && gcc -g -o prog prog.c)
objcopy --dump-section .debug_str="$big/str" "$big/prog"
# Random hex names: they compress about as real names do (3x), so the
# zlib-compressed copy stays under the 20x decompression cap.
head -c $((58 << 20)) /dev/urandom | od -An -tx8 -w16 -v | tr ' \n' '_\0' | head -c $((128 << 20)) >>"$big/str"
objcopy --update-section .debug_str="$big/str" "$big/prog" "$big/debugstr128"
objcopy --compress-debug-sections=zlib "$big/debugstr128" "$big/debugstr128-zlib"
rm "$big/str"
inputs=("$big/debugstr128" "$big/debugstr128-zlib")
parca=${XDG_CACHE_HOME:-$HOME/.cache}/rules_debuginfo/parca-v0.28.0/parca
[ -x "$parca" ] && inputs+=("$parca")
echo
echo "### Listing the sources of large binaries"
echo
echo "| input | size | wall (s) | CPU user+sys (s) | peak RSS |"
echo "|---|---:|---:|---:|---:|"
for in in "${inputs[@]}"; do
	if ! (cd "$work" && /usr/bin/time -o "$work/time" -f '%e %U %S %M' "$work/debuginfo" sources "$in" -o "$work/big.tar.zst" >"$work/out" 2>&1); then
		echo "| $(basename "$in") | failed: $(tail -1 "$work/out") | | | |"
		continue
	fi
	read -r wall user sys rss <"$work/time"
	printf '| %s | %d MB | %s | %.2f | %d MiB |\n' "$(basename "$in")" $(($(stat -c %s "$in") / 1000000)) "$wall" "$(awk "BEGIN {print $user + $sys}")" $((rss / 1024))
done
