package chunk

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// s3Example is the part of testdata/s3-examples.json the chunk chain
// reproduces: every chunk's data hash, string to sign and signature, and
// the trailer's.
type s3Example struct {
	Name     string `json:"name"`
	AmzDate  string `json:"amz_date"`
	Scope    string `json:"credential_scope"`
	Expected struct {
		SeedSignature string `json:"seed_signature"`
		Chunks        []struct {
			Size         int    `json:"size"`
			DataSHA256   string `json:"data_sha256"`
			StringToSign string `json:"string_to_sign"`
			Signature    string `json:"signature"`
		} `json:"chunks"`
		Trailer *struct {
			Canonical    string `json:"canonical_trailers"`
			StringToSign string `json:"string_to_sign"`
			Signature    string `json:"signature"`
		} `json:"trailer"`
	} `json:"expected"`
}

func loadExamples(t *testing.T) (examples []s3Example, key [32]byte) {
	raw, err := os.ReadFile("../../testdata/s3-examples.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Examples []s3Example `json:"examples"`
		Computed struct {
			Keys []struct {
				Date string `json:"date"`
				Hex  string `json:"signing_key_hex"`
			} `json:"signing_keys"`
		} `json:"computed_not_from_a_source"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	for _, k := range file.Computed.Keys {
		if k.Date == "20130524" {
			hex.Decode(key[:], []byte(k.Hex))
		}
	}
	for _, e := range file.Examples {
		if len(e.Expected.Chunks) > 0 {
			examples = append(examples, e)
		}
	}
	if len(examples) != 2 {
		t.Fatalf("found %d chunked examples, want 2", len(examples))
	}
	return examples, key
}

// TestChainS3Examples reproduces, and then verifies, every link of the
// chunk signature chains of the S3 API reference's two chunked examples.
func TestChainS3Examples(t *testing.T) {
	examples, key := loadExamples(t)
	for _, ex := range examples {
		t.Run(ex.Name, func(t *testing.T) {
			signer := NewChain(key, ex.AmzDate, ex.Scope, ex.Expected.SeedSignature)
			verifier := NewChain(key, ex.AmzDate, ex.Scope, ex.Expected.SeedSignature)
			for i, c := range ex.Expected.Chunks {
				h := sha256.Sum256([]byte(strings.Repeat("a", c.Size)))
				if got := hex.EncodeToString(h[:]); got != c.DataSHA256 {
					t.Fatalf("chunk %d: data hash %s, want %s", i, got, c.DataSHA256)
				}
				raw, err := signer.SignChunk(&h)
				if err != nil {
					t.Fatal(err)
				}
				sig := string(raw)
				if got := signer.StringToSign(); got != c.StringToSign {
					t.Errorf("chunk %d: string to sign\n%q\nwant\n%q", i, got, c.StringToSign)
				}
				if sig != c.Signature {
					t.Errorf("chunk %d: signature %s, want %s", i, sig, c.Signature)
				}
				if !verifier.VerifyChunk(&h, []byte(c.Signature)) {
					t.Errorf("chunk %d: the documented signature does not verify", i)
				}
			}
			if tr := ex.Expected.Trailer; tr != nil {
				h := sha256.Sum256([]byte(tr.Canonical))
				raw, err := signer.SignTrailer(&h)
				if err != nil {
					t.Fatal(err)
				}
				sig := string(raw)
				if got := signer.StringToSign(); got != tr.StringToSign {
					t.Errorf("trailer: string to sign\n%q\nwant\n%q", got, tr.StringToSign)
				}
				if sig != tr.Signature {
					t.Errorf("trailer: signature %s, want %s", sig, tr.Signature)
				}
				if !verifier.VerifyTrailer(&h, []byte(tr.Signature)) {
					t.Error("trailer: the documented signature does not verify")
				}
			}
		})
	}
}

// TestChainRejects: a chain refuses a signature with one digit changed, an
// upper-case one, a short one, and, once broken, stays on the path of the
// signature it computed (so a bad chunk cannot be skipped).
func TestChainRejects(t *testing.T) {
	examples, key := loadExamples(t)
	ex := examples[0]
	first := ex.Expected.Chunks[0]
	h := sha256.Sum256([]byte(strings.Repeat("a", first.Size)))
	for _, bad := range []string{
		first.Signature[:10] + "0" + first.Signature[11:],
		strings.ToUpper(first.Signature),
		first.Signature[:62],
		"",
	} {
		if bad == first.Signature {
			continue
		}
		c := NewChain(key, ex.AmzDate, ex.Scope, ex.Expected.SeedSignature)
		if c.VerifyChunk(&h, []byte(bad)) {
			t.Errorf("signature %q accepted", bad)
		}
	}
	c := NewChain(key, ex.AmzDate, ex.Scope, "0"+ex.Expected.SeedSignature[1:])
	if c.VerifyChunk(&h, []byte(first.Signature)) {
		t.Error("a chunk signature verified from the wrong seed")
	}
}
