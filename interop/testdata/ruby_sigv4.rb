# Signs requests for a service other than S3 with the aws-sigv4 gem (the
# AWS SDK for Ruby's signer) and sends them with Net::HTTP, exactly as
# signed. Paths are encoded twice in the signature, as for every service
# but S3; the cases avoid dot segments and repeated slashes, which this
# signer normalizes only when the aws-crt gem is installed.
#
# Usage: ruby_sigv4.rb ENDPOINT SERVICE
# Prints one JSON object per request: op, status and code (the error code
# the verifier answered, "" on success).
require "aws-sigv4"
require "json"
require "net/http"

endpoint, service = ARGV
signer = Aws::Sigv4::Signer.new(
  service: service,
  region: ENV.fetch("AWS_REGION"),
  access_key_id: ENV.fetch("AWS_ACCESS_KEY_ID"),
  secret_access_key: ENV.fetch("AWS_SECRET_ACCESS_KEY"),
)

def send_request(op, method, url, headers, body)
  uri = URI(url)
  req = Net::HTTPGenericRequest.new(method, !body.nil?, true, uri.request_uri, headers)
  req.body = body unless body.nil?
  resp = Net::HTTP.start(uri.host, uri.port, open_timeout: 10, read_timeout: 10) { |http| http.request(req) }
  code = resp.code.to_i == 200 ? "" : resp.body.to_s.strip
  puts JSON.generate(op: op, status: resp.code.to_i, code: code)
  $stdout.flush
end

cases = [
  ["GetSortedQuery", "GET", "/prod/items?b=2&a=1&a=0&empty=", nil, {}],
  ["GetEscapedPath", "GET", "/prod/a%20b/%C3%BC/x%2By/%7Etilde", nil, {}],
  ["GetEscapedQuery", "GET", "/prod/search?q=a%20b%2Bc&slash=%2F&star=%2A&tilde=~", nil, {}],
  ["PostJSON", "POST", "/prod/items", '{"name":"caf\u00e9","n":1}', { "Content-Type" => "application/json", "X-Custom" => "  two   spaces  " }],
]
cases.each do |op, method, path, body, headers|
  url = endpoint + path
  sig = signer.sign_request(http_method: method, url: url, headers: headers, body: body || "")
  send_request(op, method, url, headers.merge(sig.headers), body)
end
url = signer.presign_url(http_method: "GET", url: endpoint + "/prod/a%20b?x=1", expires_in: 300)
send_request("PresignedGet", "GET", url.to_s, {}, nil)
