"""Signs requests for a service other than S3 with aws-requests-auth (the
signer many Elasticsearch and OpenSearch clients use, an implementation of
its own) and sends them with requests.

It signs host and x-amz-date only, and sends x-amz-content-sha256 unsigned.
It copies the query as given (escaped already) and sorts whole "name=value"
fields, so the cases have no name that is a prefix of another.

Usage: requests_auth.py ENDPOINT SERVICE
Prints one JSON object per request: op, status and code (the error code the
verifier answered, "" on success).
"""

import json
import os
import sys
from urllib.parse import urlparse

import requests
from aws_requests_auth.aws_auth import AWSRequestsAuth


def main():
    endpoint, service = sys.argv[1:3]
    auth = AWSRequestsAuth(
        aws_access_key=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        aws_host=urlparse(endpoint).netloc,
        aws_region=os.environ["AWS_REGION"],
        aws_service=service,
    )
    cases = [
        ("GetSortedQuery", "GET", "/prod/items?b=2&a=1&a=0&empty=", None, {}),
        ("GetEscapedPath", "GET", "/prod/a%20b/%C3%BC/x%2By/%7Etilde", None, {}),
        ("GetEscapedQuery", "GET", "/prod/search?q=a%20b%2Bc&slash=%2F&star=%2A&tilde=~", None, {}),
        ("PostJSON", "POST", "/prod/items", '{"name":"caf\u00e9","n":1}'.encode(),
         {"Content-Type": "application/json", "X-Custom": "two   spaces"}),  # requests refuses edge spaces
    ]
    session = requests.Session()
    session.trust_env = False  # no proxy of the machine
    for op, method, path, body, headers in cases:
        resp = session.request(method, endpoint + path, data=body, headers=headers, auth=auth, timeout=10)
        code = "" if resp.status_code == 200 else resp.text.strip()
        print(json.dumps({"op": op, "status": resp.status_code, "code": code}), flush=True)


if __name__ == "__main__":
    main()
