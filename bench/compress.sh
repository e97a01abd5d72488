#!/usr/bin/env bash
# Sizes and costs of DWARF compression: extracts a C, a C++ and a Go binary
# (all built with -g here) with --compress-debug-sections=none|zlib|zstd and
# prints bytes and wall time for each, plus what gzip -6 over 1 MiB chunks
# (what gRPC's gzip compressor does to each Upload message) takes off each
# output, and its CPU time. Byte counts do not depend on machine load.
# Usage: bench/compress.sh   (needs go, gcc, g++, gzip)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
(cd "$root" && go build -o "$work/debuginfo" ./uploader/cmd/debuginfo)

cat >"$work/big.cc" <<'CC'
#include <algorithm>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>
namespace app {
template <typename K, typename V> struct Table {
  std::map<K, std::vector<V>> rows;
  void add(const K& k, const V& v) { rows[k].push_back(v); }
  size_t count() const { size_t n = 0; for (auto& [k, v] : rows) n += v.size(); return n; }
};
}
int main(int argc, char** argv) {
  app::Table<std::string, double> t;
  app::Table<int, std::string> u;
  std::unordered_map<std::string, int> seen;
  std::regex re("([a-z]+)=([0-9.]+)");
  for (int i = 1; i < argc; i++) {
    std::smatch m; std::string s = argv[i];
    if (std::regex_match(s, m, re)) { t.add(m[1], std::stod(m[2])); seen[m[1]]++; u.add(i, s); }
  }
  std::ostringstream os; os << t.count() << " " << u.count() << " " << seen.size();
  std::cout << os.str() << std::endl;
}
CC
g++ -g -O2 -o "$work/cxx" "$work/big.cc"
cat >"$work/c.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct node { struct node *next; char name[32]; double v; };
static struct node *push(struct node *h, const char *n, double v) {
  struct node *x = calloc(1, sizeof *x); x->next = h; strncpy(x->name, n, 31); x->v = v; return x; }
int main(int argc, char **argv) { struct node *h = NULL; for (int i = 1; i < argc; i++) h = push(h, argv[i], i);
  double s = 0; for (; h; h = h->next) s += h->v; printf("%f\n", s); return 0; }
C
gcc -g -O2 -o "$work/c" "$work/c.c"
mkdir -p "$work/gosrc"
printf 'module x\n\ngo 1.24\n' >"$work/gosrc/go.mod"
printf 'package main\n\nimport (\n\t"encoding/json"\n\t"fmt"\n\t"net/http"\n)\n\nfunc main() { b, _ := json.Marshal(map[string]int{"a": 1}); fmt.Println(string(b), http.StatusOK) }\n' >"$work/gosrc/main.go"
(cd "$work/gosrc" && GOWORK=off CGO_ENABLED=0 go build -o "$work/go" .)

now() { date +%s%N; }
echo "| input | input bytes | none | zlib | zstd | extract ms none / zlib / zstd | gzip-6 of none / zlib (bytes) | gzip ms none / zlib |"
echo "|---|---|---|---|---|---|---|---|"
for b in c cxx go; do
  declare -A size ms gz gzms
  for c in none zlib zstd; do
    t0=$(now); "$work/debuginfo" extract --compress-debug-sections=$c "$work/$b" -o "$work/$b.$c" >/dev/null; t1=$(now)
    size[$c]=$(stat -c %s "$work/$b.$c"); ms[$c]=$(( (t1 - t0) / 1000000 ))
  done
  for c in none zlib; do
    rm -rf "$work/chunks"; mkdir "$work/chunks"; split -b 1M "$work/$b.$c" "$work/chunks/x"
    t0=$(now); gz[$c]=$(for f in "$work"/chunks/x*; do gzip -6 -c "$f" | wc -c; done | awk '{s+=$1} END {print s}'); t1=$(now)
    gzms[$c]=$(( (t1 - t0) / 1000000 ))
  done
  echo "| $b | $(stat -c %s "$work/$b") | ${size[none]} | ${size[zlib]} ($(awk -v a="${size[zlib]}" -v b="${size[none]}" 'BEGIN{printf "%.2f", a/b}')) | ${size[zstd]} ($(awk -v a="${size[zstd]}" -v b="${size[none]}" 'BEGIN{printf "%.2f", a/b}')) | ${ms[none]} / ${ms[zlib]} / ${ms[zstd]} | ${gz[none]} / ${gz[zlib]} | ${gzms[none]} / ${gzms[zlib]} |"
done
