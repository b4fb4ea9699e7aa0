"""Reads a JSON list of paths on stdin and prints, for each, the canonical
request and signature botocore's SigV4Auth gives a GET of it at
20261124T120000Z (service and region from argv, credentials from the
environment), as one JSON list.

Usage: botocore_paths.py SERVICE REGION < paths.json
"""

import json
import os
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    service, region = sys.argv[1:3]
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    out = []
    for path in json.load(sys.stdin):
        req = AWSRequest(method="GET", url="https://example.amazonaws.com" + path)
        req.context["timestamp"] = "20261124T120000Z"
        auth = SigV4Auth(creds, service, region)
        auth._modify_request_before_signing(req)
        creq = auth.canonical_request(req)
        sts = auth.string_to_sign(req, creq)
        out.append({"creq": creq, "signature": auth.signature(sts, req)})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
