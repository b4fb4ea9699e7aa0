// Signs requests for a service other than S3 with aws4fetch (the npm
// package Cloudflare Workers and other fetch-based programs sign with, an
// implementation of its own on WebCrypto) and sends them with fetch().
//
// Usage: node aws4fetch_service.js ENDPOINT SERVICE
// Prints one JSON object per request: op, status and code (the error code
// the verifier answered, "" on success).
'use strict';
const { AwsClient } = require('aws4fetch');

const [endpoint, service] = process.argv.slice(2);
const client = new AwsClient({
  accessKeyId: process.env.AWS_ACCESS_KEY_ID,
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  service,
  region: process.env.AWS_REGION,
  retries: 0,
});

async function send(op, req) {
  const res = await fetch(req);
  const body = (await res.text()).trim();
  console.log(JSON.stringify({ op, status: res.status, code: res.status === 200 ? '' : body }));
}

const cases = [
  ['GetSortedQuery', 'GET', '/prod/items?b=2&a=1&a=0&empty=', undefined, {}],
  ['GetEscapedPath', 'GET', '/prod/a%20b/%C3%BC/x%2By/%7Etilde', undefined, {}],
  ['GetEscapedQuery', 'GET', '/prod/search?q=a%20b%2Bc&slash=%2F&star=%2A&tilde=~', undefined, {}],
  ['PostJSON', 'POST', '/prod/items', '{"name":"caf\u00e9","n":1}', { 'Content-Type': 'application/json', 'X-Custom': 'two   spaces' }],
  // fetch's URL parser resolves the dot segments before aws4fetch signs;
  // aws4fetch itself collapses the repeated slash.
  ['GetDotSegments', 'GET', '/prod/a/./b/../c//d', undefined, {}],
];

(async () => {
  for (const [op, method, path, body, headers] of cases) {
    await send(op, await client.sign(endpoint + path, { method, headers, body }));
  }
  await send('PresignedGet', await client.sign(endpoint + '/prod/a%20b?x=1', { method: 'GET', aws: { signQuery: true } }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
