// Signs requests for a service other than S3 with the AWS SDK for
// JavaScript v3's signer (SignatureV4 of @smithy/signature-v4, as its
// clients configure it: paths normalized and encoded twice) and sends them
// with node's http module, exactly as signed.
//
// Usage: node jssdk_service.js ENDPOINT SERVICE
// Prints one JSON object per request: op, status and code (the error code
// the verifier answered, "" on success).
'use strict';
const http = require('node:http');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@smithy/core/checksum');

const [endpoint, service] = process.argv.slice(2);
const url = new URL(endpoint);
const signer = new SignatureV4({
  service,
  region: process.env.AWS_REGION,
  sha256: Sha256,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
});

// The query string as the SDK's HTTP handlers build it from the request's
// decoded query: names and values escaped by RFC 3986, in the order given.
function escape(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}
function queryString(query) {
  const parts = [];
  for (const [k, v] of Object.entries(query || {})) {
    for (const value of Array.isArray(v) ? v : [v]) {
      parts.push(escape(k) + '=' + escape(value));
    }
  }
  return parts.length ? '?' + parts.join('&') : '';
}

function send(op, req) {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { method: req.method, host: req.hostname, port: req.port, path: req.path + queryString(req.query), headers: req.headers },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          console.log(JSON.stringify({ op, status: res.statusCode, code: res.statusCode === 200 ? '' : body.trim() }));
          resolve();
        });
      },
    );
    r.on('error', reject);
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

const base = { protocol: url.protocol, hostname: url.hostname, port: Number(url.port) };
const cases = [
  ['GetSortedQuery', 'GET', '/prod/items', { b: '2', a: ['1', '0'], empty: '' }, undefined, {}],
  ['GetEscapedPath', 'GET', '/prod/a%20b/%C3%BC/x%2By/~tilde', {}, undefined, {}],
  ['GetEscapedQuery', 'GET', '/prod/search', { q: 'a b+c', slash: '/', star: '*', tilde: '~' }, undefined, {}],
  ['PostJSON', 'POST', '/prod/items', {}, '{"name":"caf\u00e9","n":1}', { 'content-type': 'application/json', 'x-custom': '  two   spaces  ' }],
  // The SDK normalizes the path it signs outside S3, as AWS does.
  ['GetDotSegments', 'GET', '/prod/a/./b/../c//d', {}, undefined, {}],
];

(async () => {
  for (const [op, method, path, query, body, headers] of cases) {
    const req = { ...base, method, path, query, body, headers: { host: url.host, ...headers } };
    await send(op, await signer.sign(req));
  }
  const pre = { ...base, method: 'GET', path: '/prod/a%20b', query: { x: '1' }, headers: { host: url.host } };
  await send('PresignedGet', await signer.presign(pre, { expiresIn: 300 }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
