// Uploads a file as a stream with the AWS SDK for JavaScript v3, which the
// SDK sends aws-chunked (STREAMING-UNSIGNED-PAYLOAD-TRAILER, 64 KiB chunks,
// Transfer-Encoding: chunked) even over plain HTTP.
//
// Usage: node s3stream.js ENDPOINT BUCKET KEY DATA_FILE
// Credentials and region come from the environment the Go test sets.
// Prints one JSON object: op, status and code (the S3 error code, "" on
// success).
'use strict';

const fs = require('node:fs');
const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');

async function main() {
  const [endpoint, bucket, key, dataFile] = process.argv.slice(2);
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
  const out = { op: 'PutObject', status: 0, code: '' };
  try {
    const resp = await s3.send(new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: fs.createReadStream(dataFile),
      ContentLength: fs.statSync(dataFile).size,
    }));
    out.status = resp.$metadata.httpStatusCode;
  } catch (err) {
    if (!err.$metadata) throw err; // not an answer from the server
    out.status = err.$metadata.httpStatusCode;
    out.code = err.name;
  }
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
