// Signs requests for a service other than S3 with aws4 (the npm package
// many Node programs sign with, an implementation of its own) and sends
// them with node's http module, exactly as signed.
//
// Usage: node aws4_service.js ENDPOINT SERVICE
// Prints one JSON object per request: op, status and code (the error code
// the verifier answered, "" on success).
"use strict";
const http = require("http");
const aws4 = require("aws4");

const [endpoint, service] = process.argv.slice(2);
const url = new URL(endpoint);
const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID,
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
};

function send(op, opts) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: opts.method, path: opts.path, headers: opts.headers },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => {
          console.log(JSON.stringify({ op, status: res.statusCode, code: res.statusCode === 200 ? "" : body.trim() }));
          resolve();
        });
      },
    );
    req.on("error", reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

const cases = [
  ["GetSortedQuery", "GET", "/prod/items?b=2&a=1&a=0&empty=", undefined, {}],
  ["GetEscapedPath", "GET", "/prod/a%20b/%C3%BC/x%2By/%7Etilde", undefined, {}],
  ["GetEscapedQuery", "GET", "/prod/search?q=a%20b%2Bc&slash=%2F&star=%2A&tilde=~", undefined, {}],
  ["PostJSON", "POST", "/prod/items", '{"name":"caf\u00e9","n":1}', { "Content-Type": "application/json", "X-Custom": "  two   spaces  " }],
  // aws4 normalizes the path it signs, as AWS does outside S3: the
  // verifier must find the same path in the one sent.
  ["GetDotSegments", "GET", "/prod/a/./b/../c//d", undefined, {}],
];

(async () => {
  for (const [op, method, path, body, headers] of cases) {
    const opts = { host: url.host, service, region: process.env.AWS_REGION, method, path, headers: { ...headers }, body };
    aws4.sign(opts, credentials);
    await send(op, opts);
  }
  const pre = { host: url.host, service, region: process.env.AWS_REGION, method: "GET", path: "/prod/a%20b?x=1", signQuery: true };
  aws4.sign(pre, credentials);
  await send("PresignedGet", pre);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
