"""Fast SigV4 query-string (presigned URL) signing for the benchmark load generators.

botocore can presign, but at ~100 us per URL it is too slow to sign the 1,000,000 keys of the LIST
bucket; this module derives the signing key once and costs a few microseconds per URL. `selftest()`
checks it against botocore's presigner so the two cannot drift apart.

Only what the bench needs: path-style URLs, keys made of unreserved characters and '/',
X-Amz-SignedHeaders=host, payload UNSIGNED-PAYLOAD (the presigned-URL rule for S3).
"""

import datetime
import hashlib
import hmac
import urllib.parse

ALGO = "AWS4-HMAC-SHA256"


def uri_encode(s, encode_slash=True):
    safe = "-_.~" if encode_slash else "-_.~/"
    return urllib.parse.quote(s, safe=safe)


class Presigner:
    def __init__(self, host, access_key, secret_key, region="us-east-1", expires=3 * 3600,
                 when=None):
        self.host = host  # "127.0.0.1:PORT", exactly what the client sends as Host
        self.access_key = access_key
        self.region = region
        self.expires = int(expires)
        when = when or datetime.datetime.now(datetime.timezone.utc)
        self.amz_date = when.strftime("%Y%m%dT%H%M%SZ")
        date = self.amz_date[:8]
        self.scope = f"{date}/{region}/s3/aws4_request"
        k = hmac.new(("AWS4" + secret_key).encode(), date.encode(), hashlib.sha256).digest()
        for part in (region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        self.key = k
        # The X-Amz-* parameters common to every URL signed by this presigner, already encoded.
        self.common = [
            ("X-Amz-Algorithm", ALGO),
            ("X-Amz-Credential", uri_encode(f"{access_key}/{self.scope}")),
            ("X-Amz-Date", self.amz_date),
            ("X-Amz-Expires", str(self.expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        self.common_query = "&".join(f"{k}={v}" for k, v in self.common)
        self._sts_prefix = f"{ALGO}\n{self.amz_date}\n{self.scope}\n"
        self._host_block = f"host:{host}\n\nhost\nUNSIGNED-PAYLOAD"

    def _sign(self, method, path, canon_query):
        creq = f"{method}\n{path}\n{canon_query}\n{self._host_block}"
        sts = self._sts_prefix + hashlib.sha256(creq.encode()).hexdigest()
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()

    def signature(self, method, path):
        """Signature for a request without extra query parameters. `path` must be encoded."""
        return self._sign(method, path, self.common_query)

    def path_and_query(self, method, path, params=None):
        """Returns "path?query" (encoded) for `path` (already encoded) with extra `params`."""
        items = [(uri_encode(k), uri_encode(str(v))) for k, v in (params or {}).items()]
        items += self.common
        items.sort()
        q = "&".join(f"{k}={v}" for k, v in items)
        return f"{path}?{q}&X-Amz-Signature={self._sign(method, path, q)}"

    def url(self, method, path, params=None):
        return f"http://{self.host}{self.path_and_query(method, path, params)}"


def selftest(endpoint, access_key, secret_key, region="us-east-1"):
    """Signs a few requests with botocore and with Presigner (same timestamp); raises on mismatch."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key,
                      aws_secret_access_key=secret_key, region_name=region,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    host = urllib.parse.urlsplit(endpoint).netloc
    cases = [
        ("get_object", "GET", {"Bucket": "bkt", "Key": "dir0001/file000001"}, "/bkt/dir0001/file000001", {}),
        ("put_object", "PUT", {"Bucket": "bkt", "Key": "obj-4k"}, "/bkt/obj-4k", {}),
        ("list_objects_v2", "GET",
         {"Bucket": "bkt", "MaxKeys": 1000, "Delimiter": "/", "Prefix": "dir0001/",
          "ContinuationToken": "a+b/c=="},
         "/bkt", {"list-type": "2", "max-keys": "1000", "delimiter": "/", "prefix": "dir0001/",
                  "continuation-token": "a+b/c==",
                  "encoding-type": "url"}),  # botocore always adds encoding-type=url
    ]
    for op, method, args, path, params in cases:
        url = s3.generate_presigned_url(op, Params=args, ExpiresIn=3600, HttpMethod=method)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))
        when = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
        p = Presigner(host, access_key, secret_key, region, int(q["X-Amz-Expires"]), when)
        mine = p.path_and_query(method, path, params)
        mine_sig = mine.rsplit("X-Amz-Signature=", 1)[1]
        if mine_sig != q["X-Amz-Signature"]:
            raise SystemExit(f"s3sign selftest: signature mismatch for {op}:\n botocore {url}\n mine     {mine}")
    return True


if __name__ == "__main__":
    selftest("http://127.0.0.1:9000", "AKIDBENCH", "bench-secret-key")
    print("s3sign selftest ok")
