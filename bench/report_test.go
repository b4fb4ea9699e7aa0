package bench

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestReport turns the output of the benchmarks (any -count) into the
// markdown tables of RESULTS.md: medians per benchmark, the per-iteration
// reset subtracted, and the ratios against the floors and the competitors.
// It runs only when given the raw output:
//
//	go test -run '^TestReport$' ./bench/ -args -raw=out/raw.txt -table=out/table.md
var (
	rawFlag   = flag.String("raw", "", "benchmark output to summarize (TestReport)")
	tableFlag = flag.String("table", "", "markdown file to write (TestReport; default stdout)")
)

type stat struct{ ns, min, max, bytes, allocs float64 }

var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) B/op\s+([\d.]+) allocs/op`)

func parseBench(path string) (map[string]stat, map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	samples := map[string][][3]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var v [3]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(m[i+2], 64)
		}
		samples[m[1]] = append(samples[m[1]], v)
	}
	out, n := map[string]stat{}, map[string]int{}
	for name, ss := range samples {
		med := func(i int) float64 {
			xs := make([]float64, len(ss))
			for j, s := range ss {
				xs[j] = s[i]
			}
			slices.Sort(xs)
			if len(xs)%2 == 1 {
				return xs[len(xs)/2]
			}
			return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
		}
		lo, hi := ss[0][0], ss[0][0]
		for _, s := range ss {
			lo, hi = min(lo, s[0]), max(hi, s[0])
		}
		out[name] = stat{med(0), lo, hi, med(1), med(2)}
		n[name] = len(ss)
	}
	return out, n, sc.Err()
}

// baselineOf is the per-iteration overhead each benchmark includes.
func baselineOf(name string) string {
	switch {
	case name == "Floor/S3GET+plumbing":
		return "Baseline/reset/S3GET"
	case name == "Floor/JSONPOST+plumbing":
		return "Baseline/reset/JSONPOST"
	case strings.HasPrefix(name, "Sign/S3GET/"):
		return "Baseline/reset/S3GET"
	case name == "Sign/JSONPOST/minio":
		return "Baseline/reset/JSONPOST-minio"
	case strings.HasPrefix(name, "Sign/JSONPOST/"):
		return "Baseline/reset/JSONPOST"
	case strings.HasPrefix(name, "Presign/"):
		return "Baseline/reset/Presign"
	case name == "Verify/JSONPOST/sigv4":
		return "Baseline/rewind"
	}
	return ""
}

// mustAddAllocs is what a Sign must allocate for the headers it adds,
// counted as http.Header.Set costs them: a []string per header, plus a
// string for each value built during signing. X-Amz-Date: 2; Authorization:
// 2; for S3 X-Amz-Content-Sha256: 1 (its value is a string the caller
// already has, so only the []string). An implementation that shares one
// backing array between its headers can go below this count.
var mustAddAllocs = map[string]int{
	"Sign/S3GET/sigv4":    5,
	"Sign/JSONPOST/sigv4": 4,
}

func TestReport(t *testing.T) {
	if *rawFlag == "" {
		t.Skip("no -raw benchmark output given")
	}
	st, counts, err := parseBench(*rawFlag)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	get := func(name string) stat {
		s, ok := st[name]
		if !ok {
			t.Fatalf("no benchmark %s in %s", name, *rawFlag)
		}
		return s
	}
	net := func(name string) float64 {
		s := get(name)
		if base := baselineOf(name); base != "" {
			return s.ns - get(base).ns
		}
		return s.ns
	}

	names := slices.Sorted(func(yield func(string) bool) {
		for k := range st {
			if !yield(k) {
				return
			}
		}
	})
	order := []string{"Baseline/", "Floor/", "Sign/", "Presign/", "Verify/"}
	slices.SortStableFunc(names, func(a, c string) int {
		ia := slices.IndexFunc(order, func(p string) bool { return strings.HasPrefix(a, p) })
		ic := slices.IndexFunc(order, func(p string) bool { return strings.HasPrefix(c, p) })
		return ia - ic
	})

	fmt.Fprintf(&b, "### All benchmarks (median of %d runs)\n\n", counts[names[0]])
	b.WriteString("| benchmark | ns/op | min–max ns/op | reset subtracted | net ns/op | B/op | allocs/op |\n|---|--:|--:|---|--:|--:|--:|\n")
	for _, n := range names {
		s := st[n]
		base := baselineOf(n)
		if base == "" {
			base = "–"
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f–%.0f | %s | %.0f | %.0f | %.0f |\n", n, s.ns, s.min, s.max, base, net(n), s.bytes, s.allocs)
	}

	b.WriteString("\n### Sign and Presign: ours against the floor and the competitors (net ns/op)\n\n")
	b.WriteString("| request | floor | practical floor | sigv4 | awsv2 | minio | smithy | sigv4/floor | sigv4/practical (target ≤ 1.5) | awsv2/sigv4 (target ≥ 3.5) | minio/sigv4 | smithy/sigv4 | sigv4 allocs | must add | beyond (target ≤ 3) |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range []struct{ row, prefix, floor, practical string }{
		{"Sign S3GET", "Sign/S3GET/", "Floor/S3GET", "Floor/S3GET+plumbing"},
		{"Sign JSONPOST", "Sign/JSONPOST/", "Floor/JSONPOST", "Floor/JSONPOST+plumbing"},
		{"Presign S3GET", "Presign/S3GET/", "Floor/PresignedS3GET", ""},
	} {
		ours, aws, minio, smithy, fl := net(r.prefix+"sigv4"), net(r.prefix+"awsv2"), net(r.prefix+"minio"), net(r.prefix+"smithy"), get(r.floor).ns
		pf, pfRatio := "–", "–"
		if r.practical != "" {
			pf, pfRatio = fmt.Sprintf("%.0f", net(r.practical)), fmt.Sprintf("%.2f", ours/net(r.practical))
		}
		allocs := get(r.prefix + "sigv4").allocs
		must, beyond := "–", "–"
		if m, ok := mustAddAllocs[r.prefix+"sigv4"]; ok {
			must, beyond = fmt.Sprint(m), fmt.Sprintf("%.0f", max(0, allocs-float64(m)))
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %.0f | %.0f | %.0f | %.0f | %.2f | %s | %.2f | %.2f | %.2f | %.0f | %s | %s |\n",
			r.row, fl, pf, ours, aws, minio, smithy, ours/fl, pfRatio, aws/ours, minio/ours, smithy/ours, allocs, must, beyond)
	}

	b.WriteString("\n### Verify (warm Keyring) against the floor\n\n")
	b.WriteString("| request | floor | floor benchmark | practical floor | sigv4 Verify (net) | Verify/floor | practical/floor | Verify/practical (target) | B/op | allocs/op |\n|---|--:|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range []struct{ row, name, floor, practical, target string }{
		{"S3GET", "Verify/S3GET/sigv4", "Floor/S3GET", "Floor/S3GET+verify-plumbing", " (≤ 1.8)"},
		{"JSONPOST (body hashed)", "Verify/JSONPOST/sigv4", "Floor/JSONPOST+body", "", ""},
		{"PresignedS3GET", "Verify/PresignedS3GET/sigv4", "Floor/PresignedS3GET", "Floor/PresignedS3GET+verify-plumbing", " (≤ 2.2)"},
	} {
		v, fl := net(r.name), get(r.floor).ns
		pf, pfRatio, vRatio := "–", "–", "–"
		if r.practical != "" {
			p := get(r.practical).ns
			pf, pfRatio, vRatio = fmt.Sprintf("%.0f", p), fmt.Sprintf("%.2f", p/fl), fmt.Sprintf("%.2f%s", v/p, r.target)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %.0f | %.2f | %s | %s | %.0f | %.0f |\n", r.row, fl, r.floor, pf, v, v/fl, pfRatio, vRatio, get(r.name).bytes, get(r.name).allocs)
	}

	if *tableFlag == "" {
		fmt.Print(b.String())
		return
	}
	if err := os.WriteFile(*tableFlag, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
