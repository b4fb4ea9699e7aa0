// Drives the AWS SDK for JavaScript v3 against the interop test server.
//
// Usage: node s3client.js ENDPOINT BUCKET KEY DATA_FILE
// Credentials and region come from the environment the Go test sets.
// Prints one JSON object per operation: op, status, code (the S3 error
// code, "" on success) and, for a GET, the sha256 of the body received.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const { S3Client, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');

function report(op, status, code = '', body) {
  const out = { op, status, code };
  if (body !== undefined) {
    out.sha256 = crypto.createHash('sha256').update(body).digest('hex');
  }
  console.log(JSON.stringify(out));
}

async function call(op, send) {
  let resp;
  try {
    resp = await send();
  } catch (err) {
    if (!err.$metadata) throw err; // not an answer from the server
    report(op, err.$metadata.httpStatusCode, err.name);
    return;
  }
  const body = resp.Body ? Buffer.from(await resp.Body.transformToByteArray()) : undefined;
  report(op, resp.$metadata.httpStatusCode, '', body);
}

async function fetchPresigned(op, url) {
  // fetch, not the SDK: whoever holds a presigned URL uses a plain client.
  const resp = await fetch(url, { signal: AbortSignal.timeout(10000) });
  const body = Buffer.from(await resp.arrayBuffer());
  if (resp.ok) {
    report(op, resp.status, '', body);
    return;
  }
  const code = /<Code>([^<]*)<\/Code>/.exec(body.toString('utf8'));
  report(op, resp.status, code ? code[1] : '');
}

async function main() {
  const [endpoint, bucket, key, dataFile] = process.argv.slice(2);
  const data = fs.readFileSync(dataFile);
  const s3 = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: process.env.AWS_REGION,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    },
    maxAttempts: 1,
  });
  // A Buffer body has a known length: the SDK signs its hex SHA-256 (with a
  // signed x-amz-checksum-crc32). A stream would go out as aws-chunked.
  await call('PutObject', () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data })));
  await call('GetObject', () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 });
  await fetchPresigned('PresignedGetObject', url);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
