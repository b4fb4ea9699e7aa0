// Drives the AWS SDK for JavaScript v3 through the sigv4 gateway
// (gateway_test.go).
//
// Usage: node gateway_s3.js ENDPOINT BUCKET KEY DATA_FILE OPS
// OPS is a comma-separated list of:
//   put-buffer  PutObject with a Buffer: hex SHA-256 payload hash
//   put-stream  PutObject with a file stream and its length: the SDK sends it
//               STREAMING-UNSIGNED-PAYLOAD-TRAILER, aws-chunked, even over
//               plain HTTP
//   get         GetObject; reports the sha256 of the body received
//   list        ListObjectsV2 with KEY as the prefix; reports the sha256 of
//               the keys listed, one a line
//   delete      DeleteObject
// Credentials and region come from the environment the Go test sets
// (AWS_SESSION_TOKEN too, if set). Prints one JSON object per operation:
// op, status, code (the S3 error code, "" on success) and, for a GET, sha256.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const {
  S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, DeleteObjectCommand,
} = require('@aws-sdk/client-s3');

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
    if (!err.$metadata || !err.$metadata.httpStatusCode) throw err; // not an answer from the server
    report(op, err.$metadata.httpStatusCode, err.name);
    return;
  }
  const body = resp.Body ? Buffer.from(await resp.Body.transformToByteArray()) : undefined;
  report(op, resp.$metadata.httpStatusCode, '', body);
}

async function main() {
  const [endpoint, bucket, key, dataFile, ops] = process.argv.slice(2);
  const credentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  };
  if (process.env.AWS_SESSION_TOKEN) {
    credentials.sessionToken = process.env.AWS_SESSION_TOKEN;
  }
  const s3 = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: process.env.AWS_REGION,
    credentials,
    maxAttempts: 1,
  });
  for (const op of ops.split(',')) {
    switch (op) {
      case 'put-buffer': {
        const data = fs.readFileSync(dataFile);
        await call('PutObject', () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data })));
        break;
      }
      case 'put-stream':
        await call('PutObject', () => s3.send(new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: fs.createReadStream(dataFile),
          ContentLength: fs.statSync(dataFile).size,
        })));
        break;
      case 'get':
        await call('GetObject', () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
        break;
      case 'list':
        try {
          const resp = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
          const names = (resp.Contents || []).map((o) => o.Key).join('\n');
          report('ListObjectsV2', resp.$metadata.httpStatusCode, '', Buffer.from(names));
        } catch (err) {
          if (!err.$metadata || !err.$metadata.httpStatusCode) throw err;
          report('ListObjectsV2', err.$metadata.httpStatusCode, err.name);
        }
        break;
      case 'delete':
        await call('DeleteObject', () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
        break;
      default:
        throw new Error('unknown op ' + op);
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
