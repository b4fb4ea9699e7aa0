#!/usr/bin/env bash
# Reproduces the measurements of bench/RESULTS.md:
#   1. the sanity tests (every competitor's signature verifies with ours),
#   2. every benchmark in one `go test -bench` run, COUNT times,
#   3. benchstat (if it can be had) and the markdown table (TestReport),
#   4. CPU and memory profiles of sigv4's Sign and Verify, as pprof -top.
#
# Usage: bench/run.sh            (COUNT=5 BENCHTIME=1s by default)
#        COUNT=10 BENCHTIME=2s OUT=/tmp/sigv4-bench bench/run.sh
# Outputs go to $OUT (default bench/out): raw.txt, benchstat.txt, table.md,
# *.pprof and *.top.txt; raw-cpu1.txt and table-cpu1.md for the GOMAXPROCS=1
# pass. About 7 minutes on 2 cores (4 with CPU1=0).
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out}
COUNT=${COUNT:-5}
BENCHTIME=${BENCHTIME:-1s}
# The Sign/Presign/Verify comparison; BENCH=. adds streaming, SigV4a and the rest.
BENCH=${BENCH:-'^Benchmark(Baseline|Floor|Sign|Presign|Verify)$'}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Measure a snapshot: the package may be edited while the benchmarks run
# (several minutes), and every step below must build the same code. The
# snapshot holds the module's non-test sources and bench/.
SRC="$TMP/src"
mkdir -p "$SRC"
# The module's files as they are now, committed or not, but for what git
# ignores: bench/ imports the other packages (chunked, gateway...).
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$SRC"
{
	go version
	go env GOOS GOARCH
	grep -m1 'model name' /proc/cpuinfo 2>/dev/null || true
	echo "cores: $(nproc 2>/dev/null || echo '?')"
	go list -m github.com/aws/aws-sdk-go-v2 github.com/minio/minio-go/v7
	# The code measured: the commit, uncommitted changes outside bench/,
	# and a hash of the snapshot's non-test sources.
	echo "sigv4 HEAD: $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "uncommitted outside bench/: $(git status --porcelain -- . ':!bench' 2>/dev/null | tr '\n' ' ')"
	echo "snapshot sources sha256: $(cd "$SRC" && ls ./*.go internal/*/*.go | grep -v '_test\.go$' | xargs cat | sha256sum | cut -c1-16)"
	echo "started: $(date -u +%FT%TZ)"
	echo "loadavg before: $(cat /proc/loadavg 2>/dev/null || echo '?')"
} >"$OUT/env.txt"
cd "$SRC"
cat "$OUT/env.txt"

echo "== sanity: every signer's signature verifies with sigv4.Verifier"
go test -count=1 -run '^(TestCompetitorsVerify|TestSameSignatureAsAWS|TestResetRestoresTemplate)$' -v ./bench/ |
	grep -E '^(=== RUN|--- |\s+sanity_test|PASS|FAIL|ok)' | tee "$OUT/sanity.txt"

echo "== benchmarks: count=$COUNT benchtime=$BENCHTIME"
go test -run '^$' -bench "$BENCH" -benchmem -count="$COUNT" -benchtime="$BENCHTIME" ./bench/ | tee "$OUT/raw.txt"
# Other load on the machine shows as spread between runs: record it.
echo "loadavg after benchmarks: $(cat /proc/loadavg 2>/dev/null || echo '?')" | tee -a "$OUT/env.txt"

# The same run with GOMAXPROCS=1: the garbage collector then works on the
# benchmark's own core, so its cost is charged to the code that allocates
# and the result does not depend on whether the second core is idle.
# CPU1=0 skips it.
if [ "${CPU1:-1}" != 0 ]; then
	echo "== benchmarks, -cpu=1"
	go test -run '^$' -bench "$BENCH" -benchmem -count="$COUNT" -benchtime="$BENCHTIME" -cpu=1 ./bench/ | tee "$OUT/raw-cpu1.txt"
	echo "loadavg after -cpu=1 benchmarks: $(cat /proc/loadavg 2>/dev/null || echo '?')" | tee -a "$OUT/env.txt"
fi

benchstat_() {
	if command -v benchstat >/dev/null 2>&1; then
		benchstat "$@"
	elif go run golang.org/x/perf/cmd/benchstat@latest "$@" 2>"$TMP/benchstat.err"; then
		:
	else
		echo "benchstat unavailable ($(head -c 200 "$TMP/benchstat.err")); see table.md (medians)"
	fi
}

for run in raw raw-cpu1; do
	[ -f "$OUT/$run.txt" ] || continue
	[ "$run" = raw-cpu1 ] && [ "${CPU1:-1}" = 0 ] && continue
	suffix=${run#raw}
	echo "== benchstat $run"
	benchstat_ "$OUT/$run.txt" | tee "$OUT/benchstat$suffix.txt"
	echo "== table $run (medians, reset subtracted, ratios)"
	go test -count=1 -run '^TestReport$' ./bench/ -args -raw="$OUT/$run.txt" -table="$OUT/table$suffix.md"
	cat "$OUT/table$suffix.md"
done

echo "== profiles"
# CPU: sigv4 only, a little longer for more samples.
go test -run '^$' -bench '^BenchmarkSign$/.*/^sigv4$' -benchtime=3s -o "$TMP/bench.test" \
	-cpuprofile "$OUT/sign.cpu.pprof" ./bench/ >/dev/null
go test -run '^$' -bench '^BenchmarkVerify$' -benchtime=3s -o "$TMP/bench.test" \
	-cpuprofile "$OUT/verify.cpu.pprof" ./bench/ >/dev/null
# Memory: every allocation recorded; a fixed iteration count, so that
# alloc_objects / iterations is the exact count per operation.
N=100000
go test -run '^$' -bench '^BenchmarkSign$/.*/^sigv4$' -benchtime=${N}x -memprofilerate=1 -o "$TMP/bench.test" \
	-memprofile "$OUT/sign.mem.pprof" ./bench/ >/dev/null
go test -run '^$' -bench '^BenchmarkVerify$' -benchtime=${N}x -memprofilerate=1 -o "$TMP/bench.test" \
	-memprofile "$OUT/verify.mem.pprof" ./bench/ >/dev/null

for p in sign verify; do
	go tool pprof -top -nodecount=40 "$OUT/$p.cpu.pprof" >"$OUT/$p.cpu.top.txt" 2>/dev/null
	go tool pprof -top -cum -nodecount=50 "$OUT/$p.cpu.pprof" >"$OUT/$p.cpu.cum.txt" 2>/dev/null
	go tool pprof -top -sample_index=alloc_objects -nodecount=30 "$OUT/$p.mem.pprof" >"$OUT/$p.mem.top.txt" 2>/dev/null
	go tool pprof -top -sample_index=alloc_space -nodecount=30 "$OUT/$p.mem.pprof" >>"$OUT/$p.mem.top.txt" 2>/dev/null
	# Allocation sites, line by line (N iterations per benchmark).
	go tool pprof -top -lines -sample_index=alloc_objects -nodecount=40 "$OUT/$p.mem.pprof" >"$OUT/$p.mem.lines.txt" 2>/dev/null
	echo "-- $p CPU (flat)"
	head -30 "$OUT/$p.cpu.top.txt"
	echo "-- $p allocations (objects; $N iterations per benchmark)"
	head -20 "$OUT/$p.mem.top.txt"
done
echo "outputs in $OUT"
