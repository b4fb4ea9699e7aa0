// Puts, gets and presigns a GET of an S3 object with aws4 or aws4fetch
// (npm), the small signers many Node programs and Workers use for S3 and
// S3-compatible storage, and sends them with node's http module or fetch().
//
// Usage: node aws4_s3.js aws4|aws4fetch ENDPOINT BUCKET KEY DATA_FILE
// Prints one JSON object per operation: op, status, code (the S3 error
// code, "" on success) and, for a GET, the sha256 of the body received.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const aws4 = require('aws4');
const { AwsClient } = require('aws4fetch');

const [which, endpoint, bucket, key, dataFile] = process.argv.slice(2);
const url = new URL(endpoint);
const data = fs.readFileSync(dataFile);
const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
const region = process.env.AWS_REGION;

// Each segment escaped as RFC 3986 wants it, as S3 clients send keys.
const escape = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const path = '/' + [bucket, ...key.split('/')].map(escape).join('/');

function report(op, status, body, wantBody) {
  const out = { op, status, code: '' };
  if (status === 200) {
    if (wantBody) out.sha256 = crypto.createHash('sha256').update(body).digest('hex');
  } else {
    const m = /<Code>([^<]*)<\/Code>/.exec(body.toString('utf8'));
    out.code = m ? m[1] : '';
  }
  console.log(JSON.stringify(out));
}

function send(opts) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: url.hostname, port: url.port, method: opts.method, path: opts.path, headers: opts.headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    r.on('error', reject);
    if (opts.body) r.write(opts.body);
    r.end();
  });
}

async function withAWS4() {
  const sign = (o) => aws4.sign({ host: url.host, service: 's3', region, ...o }, credentials);
  let r = await send(sign({ method: 'PUT', path, body: data, headers: { 'Content-Type': 'application/octet-stream' } }));
  report('PutObject', r.status, r.body);
  r = await send(sign({ method: 'GET', path }));
  report('GetObject', r.status, r.body, true);
  r = await send(sign({ method: 'GET', path, signQuery: true }));
  report('PresignedGetObject', r.status, r.body, true);
}

async function withAWS4Fetch() {
  const client = new AwsClient({ ...credentials, service: 's3', region, retries: 0 });
  const call = async (op, req, wantBody) => {
    const res = await fetch(req);
    report(op, res.status, Buffer.from(await res.arrayBuffer()), wantBody);
  };
  await call('PutObject', await client.sign(endpoint + path, { method: 'PUT', body: data }));
  await call('GetObject', await client.sign(endpoint + path, { method: 'GET' }), true);
  await call('PresignedGetObject', await client.sign(endpoint + path, { method: 'GET', aws: { signQuery: true } }), true);
}

(which === 'aws4' ? withAWS4() : withAWS4Fetch()).catch((e) => {
  console.error(e);
  process.exit(1);
});
