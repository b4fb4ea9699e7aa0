package debugpage

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/sigv4/sigv4/internal/explain"
)

//go:embed page.html
var page []byte

// Page is the page as a server serves it: it asks the server's
// /explain, and keeps a secret to itself.
func Page() []byte { return page }

// securityHeaders are those of every answer: the page's own inline script
// and style, connections to its own origin only, no framing.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// Handler serves the page at its root and the explanation it asks for at
// explain (POST, JSON). It holds no secret and takes none: a request
// carrying one is refused, so a page that would send it learns so.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("POST /explain", serveExplain)
	return mux
}

func serveExplain(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
		http.Error(w, "another site's page may not ask", http.StatusForbidden)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		http.Error(w, "want application/json", http.StatusUnsupportedMediaType)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 2*explain.MaxInput+1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req Request
	if err := json.Unmarshal(data, &req); err != nil {
		http.Error(w, "not JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	if req.Secret != "" {
		http.Error(w, "the page must not send the secret: it signs the candidates itself", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(Explain(req))
}

// Standalone is the page that runs without a server: wasmExec (Go's
// wasm_exec.js) and the WebAssembly build of ./wasm, compressed, inlined,
// so that it opens from a file with the network off.
func Standalone(wasm, wasmExec []byte) ([]byte, error) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if _, err := zw.Write(wasm); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	var loader strings.Builder
	loader.WriteString("<script id=\"sigv4-wasm\">\n")
	loader.Write(bytes.ReplaceAll(wasmExec, []byte("</script"), []byte("<\\/script")))
	loader.WriteString("\n</script>\n<script>\n(async () => {\n  try {\n    const b64 = '")
	loader.WriteString(base64.StdEncoding.EncodeToString(gz.Bytes()))
	loader.WriteString(`';
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const buf = await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
    const go = new Go();
    const { instance } = await WebAssembly.instantiate(buf, go.importObject);
    go.run(instance);
  } catch (err) {
    document.dispatchEvent(new CustomEvent('sigv4-failed', { detail: String(err) }));
  }
})();
</script>`)
	return bytes.Replace(page, []byte("<!--sigv4-wasm-->"), []byte(loader.String()), 1), nil
}
