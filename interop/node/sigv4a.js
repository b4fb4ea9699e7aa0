// Signs S3 requests with the pure-JS SigV4a signer of the AWS SDK for
// JavaScript v3 (@aws-sdk/signature-v4a, the SignatureV4a class of
// @smithy/signature-v4a) and sends them with node:http, for
// sigv4a_test.go.
//
// Usage: node sigv4a.js ENDPOINT BUCKET KEY DATA_FILE REGION_SET
//        node sigv4a.js probe
// REGION_SET is the signer's region: "*" or a comma-separated list, which
// the signer sends, and signs, as X-Amz-Region-Set. Credentials come from
// the environment the Go test sets. Prints one JSON object per operation
// (op, status, code: the S3 error code, "" on success; sha256 of the body
// of a GET): PutObject (a Buffer body: the signer sets and signs
// x-amz-content-sha256, the hex SHA-256, as applyChecksum does by
// default), then GetObject.
//
// "probe" prints what the signer offers: {"presign": bool, "version": ...}.
// SignatureV4a has sign/signRequest only at the pinned version: no presign.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const { SignatureV4a } = require('@aws-sdk/signature-v4a');

// The hash constructor the SDK's clients give their signers: Hash(secret)
// is HMAC-SHA256, Hash() SHA-256.
const { Sha256 } = require('@smithy/core/checksum');

function encodeSegment(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function report(op, status, code = '', body) {
  const out = { op, status, code };
  if (body !== undefined) {
    out.sha256 = crypto.createHash('sha256').update(body).digest('hex');
  }
  console.log(JSON.stringify(out));
}

function send(req) {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { method: req.method, host: req.hostname, port: req.port, path: req.path, headers: req.headers, timeout: 10000 },
      (resp) => {
        const chunks = [];
        resp.on('data', (c) => chunks.push(c));
        resp.on('end', () => resolve({ status: resp.statusCode, body: Buffer.concat(chunks) }));
        resp.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    if (req.body !== undefined) {
      r.write(req.body);
    }
    r.end();
  });
}

async function call(op, signer, request, wantBody) {
  const signed = await signer.sign(request);
  const resp = await send(signed);
  if (resp.status >= 200 && resp.status < 300) {
    report(op, resp.status, '', wantBody ? resp.body : undefined);
    return;
  }
  const code = /<Code>([^<]*)<\/Code>/.exec(resp.body.toString('utf8'));
  report(op, resp.status, code ? code[1] : '');
}

async function main() {
  const args = process.argv.slice(2);
  const signer = (region) =>
    new SignatureV4a({
      service: 's3',
      region,
      sha256: Sha256,
      // As S3Client (signingEscapePath: false): S3 paths are not normalized.
      uriEscapePath: false,
      credentials: {
        accessKeyId: process.env.AWS_ACCESS_KEY_ID,
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
      },
    });
  if (args[0] === 'probe') {
    const version = require('@aws-sdk/signature-v4a/package.json').version;
    console.log(JSON.stringify({ presign: typeof signer('*').presign === 'function', version }));
    return;
  }
  const [endpoint, bucket, key, dataFile, regionSet] = args;
  const url = new URL(endpoint);
  const data = fs.readFileSync(dataFile);
  const s = signer(regionSet);
  const base = {
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    // Each segment URI-encoded as S3Client encodes keys
    // (extendedEncodeURIComponent): the signer signs the path as given.
    path: '/' + [bucket, ...key.split('/')].map(encodeSegment).join('/'),
    query: {},
  };
  await call('PutObject', s, {
    ...base,
    method: 'PUT',
    headers: { host: url.host, 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
    body: data,
  });
  await call('GetObject', s, { ...base, method: 'GET', headers: { host: url.host } }, true);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
