// Package bench holds benchmarks that compare sigv4 with other signers.
package bench
