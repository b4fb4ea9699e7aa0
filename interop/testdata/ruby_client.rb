# Drives the AWS SDK for Ruby (aws-sdk-s3 and aws-sigv4, an implementation
# of SigV4 of its own) against the interop test server.
#
# Usage: ruby_client.rb ENDPOINT BUCKET KEY DATA_FILE
# Credentials and region come from the environment the Go test sets.
# Prints one JSON object per operation: op, status, code (the S3 error code,
# "" on success) and, for a GET, the sha256 of the body received.
require "aws-sdk-s3"
require "digest"
require "json"
require "net/http"
require "rexml/document"

def report(op, status, code = "", body = nil)
  out = { op: op, status: status, code: code }
  out[:sha256] = Digest::SHA256.hexdigest(body) unless body.nil?
  puts JSON.generate(out)
  $stdout.flush
end

def call(op)
  resp = yield
  body = resp.respond_to?(:body) ? resp.body.read : nil
  report(op, resp.context.http_response.status_code, "", body)
rescue Aws::S3::Errors::ServiceError => e
  report(op, e.context.http_response.status_code, e.code)
end

# A plain HTTP client, not the SDK: whoever holds a presigned URL uses one.
def fetch(op, url)
  uri = URI(url)
  resp = Net::HTTP.start(uri.host, uri.port, open_timeout: 10, read_timeout: 10) do |http|
    http.request(Net::HTTP::Get.new(uri))
  end
  if resp.code.to_i == 200
    report(op, 200, "", resp.body)
  else
    code = REXML::Document.new(resp.body).elements["Error/Code"]&.text.to_s
    report(op, resp.code.to_i, code)
  end
end

endpoint, bucket, key, data_file = ARGV
data = File.binread(data_file)
s3 = Aws::S3::Client.new(
  endpoint: endpoint,
  region: ENV.fetch("AWS_REGION"),
  credentials: Aws::Credentials.new(ENV.fetch("AWS_ACCESS_KEY_ID"), ENV.fetch("AWS_SECRET_ACCESS_KEY")),
  force_path_style: true,
  retry_limit: 0,
  http_open_timeout: 10,
  http_read_timeout: 10,
)
call("PutObject") { s3.put_object(bucket: bucket, key: key, body: data) }
call("GetObject") { s3.get_object(bucket: bucket, key: key) }
url = Aws::S3::Presigner.new(client: s3).presigned_url(:get_object, bucket: bucket, key: key, expires_in: 300)
fetch("PresignedGetObject", url)
