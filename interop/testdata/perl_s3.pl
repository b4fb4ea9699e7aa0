# Drives AWS::Signature4 (Perl; an implementation of its own, which takes
# the service and region from the host name, and so signs for s3 in
# us-east-1 at 127.0.0.1) with LWP against the interop test server.
#
# Usage: perl_s3.pl ENDPOINT BUCKET KEY DATA_FILE
# Prints one JSON object per operation: op, status, code (the S3 error code,
# "" on success) and, for a GET, the sha256 of the body received.
use strict;
use warnings;
use AWS::Signature4;
use Digest::SHA qw(sha256_hex);
use HTTP::Request;
use JSON::PP;
use LWP::UserAgent;
use URI::Escape qw(uri_escape_utf8);

my ($endpoint, $bucket, $key, $data_file) = @ARGV;
open(my $fh, '<:raw', $data_file) or die "$data_file: $!";
my $data = do { local $/; <$fh> };
close $fh;

my $signer = AWS::Signature4->new(-access_key => $ENV{AWS_ACCESS_KEY_ID}, -secret_key => $ENV{AWS_SECRET_ACCESS_KEY});
my $ua = LWP::UserAgent->new(timeout => 10, env_proxy => 0);
my $url = "$endpoint/$bucket/" . join('/', map { uri_escape_utf8($_) } split(m{/}, $key));

sub report {
    my ($op, $resp) = @_;
    my %out = (op => $op, status => $resp->code + 0, code => '');
    if ($resp->code == 200) {
        $out{sha256} = sha256_hex($resp->content) if $op =~ /Get/;
    } else {
        ($out{code}) = $resp->content =~ m{<Code>([^<]*)</Code>};
        $out{code} //= '';
    }
    print JSON::PP->new->canonical->encode(\%out), "\n";
}

my $put = HTTP::Request->new(PUT => $url);
$put->content($data);
$put->header('Content-Length' => length $data);
$put->header('X-Amz-Content-Sha256' => sha256_hex($data)); # S3 wants it sent
$signer->sign($put);
report('PutObject', $ua->request($put));

my $get = HTTP::Request->new(GET => $url);
$get->header('X-Amz-Content-Sha256' => sha256_hex(''));
$signer->sign($get);
report('GetObject', $ua->request($get));

# AWS::Signature4 signs the host without its port (AWS endpoints have
# none), and so does LWP send it when the request sets it, as sign() does.
# A presigned URL carries no header: the fetch sends that same Host.
my $presigned = $signer->signed_url(HTTP::Request->new(GET => $url), 300);
report('PresignedGetObject', $ua->get($presigned, Host => $presigned->host));
