// The JS SDK v3 side of the differential test: reads a JSON list of cases
// on stdin, signs or presigns each with SignatureV4 (@smithy/signature-v4,
// as the SDK's clients set it up: paths normalized and encoded twice but
// for S3) at 20261124T120000Z, and prints one JSON list: the signature,
// the headers and the query it sends.
//
// A case: {"method", "path", "query" ({name: [decoded values]}), "headers"
// ({name: value}), "s3", "presign"}.
// Usage: node smithy_diff.js SERVICE REGION < cases.json
'use strict';
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@smithy/core/checksum');

const [service, region] = process.argv.slice(2);
const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
const signers = {
  other: new SignatureV4({ service, region, sha256: Sha256, credentials }),
  s3: new SignatureV4({ service: 's3', region, sha256: Sha256, credentials, uriEscapePath: false }),
};
const signingDate = new Date('2026-11-24T12:00:00Z');

let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', async () => {
  const out = [];
  for (const c of JSON.parse(input)) {
    const req = {
      method: c.method, protocol: 'https:', hostname: 'example.amazonaws.com', path: c.path,
      query: c.query, headers: Object.assign({ host: 'example.amazonaws.com' }, c.headers),
    };
    const signer = c.s3 ? signers.s3 : signers.other;
    const signed = c.presign
      ? await signer.presign(req, { expiresIn: 300, signingDate })
      : await signer.sign(req, { signingDate });
    const sig = c.presign ? signed.query['X-Amz-Signature'] : /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
    out.push({ signature: sig, headers: signed.headers, query: signed.query });
  }
  console.log(JSON.stringify(out));
});
