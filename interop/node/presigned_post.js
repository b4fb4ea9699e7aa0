// Makes an S3 POST upload form with the JS SDK v3's createPresignedPost
// (@aws-sdk/s3-presigned-post) and prints it: {url, fields}.
//
// Usage: node presigned_post.js ENDPOINT BUCKET KEY MAX_SIZE
// Credentials and region come from the environment.
'use strict';

const { S3Client } = require('@aws-sdk/client-s3');
const { createPresignedPost } = require('@aws-sdk/s3-presigned-post');

async function main() {
  const [endpoint, bucket, key, maxSize] = process.argv.slice(2);
  const client = new S3Client({
    endpoint, forcePathStyle: true, region: process.env.AWS_REGION,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
  });
  const post = await createPresignedPost(client, {
    Bucket: bucket, Key: key, Expires: 300,
    Conditions: [['content-length-range', 1, Number(maxSize)], ['starts-with', '$Content-Type', 'text/']],
    Fields: { 'Content-Type': 'text/plain' },
  });
  console.log(JSON.stringify({ url: post.url, fields: post.fields }));
}

main().catch((err) => { console.error(err); process.exit(1); });
