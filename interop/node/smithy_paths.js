// Reads a JSON list of paths on stdin and prints, for each, the signature
// the JS SDK v3's SignatureV4 (@smithy/signature-v4, as its clients set it
// up for every service but S3) gives a GET of it at 20261124T120000Z, as
// one JSON list.
//
// Usage: node smithy_paths.js SERVICE REGION < paths.json
'use strict';
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@smithy/core/checksum');

const [service, region] = process.argv.slice(2);
const signer = new SignatureV4({
  service,
  region,
  sha256: Sha256,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
});

let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', async () => {
  const out = [];
  for (const path of JSON.parse(input)) {
    const req = {
      method: 'GET', protocol: 'https:', hostname: 'example.amazonaws.com', path, query: {},
      headers: { host: 'example.amazonaws.com' },
    };
    const signed = await signer.sign(req, { signingDate: new Date('2026-11-24T12:00:00Z') });
    out.push({ signature: /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1] });
  }
  console.log(JSON.stringify(out));
});
