//go:build js && wasm

// Command wasm is the debugger page's explain, built to WebAssembly: it
// runs internal/explain in the browser, so that a request, and a secret,
// pasted into the page never leave it. It defines the JavaScript function
// sigv4Explain(inputJSON) returning the view as JSON (debugpage.Request in,
// debugpage.Response out).
package main

import (
	"syscall/js"

	"github.com/sigv4/sigv4/internal/debugpage"
)

func main() {
	js.Global().Set("sigv4Explain", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) != 1 {
			return `{"error":"sigv4Explain takes one argument"}`
		}
		return string(debugpage.ExplainJSON([]byte(args[0].String())))
	}))
	js.Global().Get("document").Call("dispatchEvent", js.Global().Get("Event").New("sigv4-ready"))
	select {}
}
