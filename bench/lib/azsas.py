"""Azure Storage shared access signatures (SAS) for the Blob benchmark rows (bench/run.sh).

A SAS puts the authentication in the query string, so one URL (container SAS: one query for every
blob of the container) can be replayed by wrk with no per-request signing, against emberd's Blob
endpoint and Azurite alike (both know the account devstoreaccount1 and its well-known key).

Only what the bench needs: service SAS for a container (sr=c) and account SAS (ss=b), signed
version BLOB_SAS_VERSION (>= 2020-12-06: the string to sign includes the encryption scope line), no
start time, no IP range, no protocol restriction. `selftest()` checks the signatures against the
Azure SDK's generate_container_sas / generate_account_sas when azure-storage-blob is importable.
"""

import base64
import datetime
import hashlib
import hmac
import urllib.parse

# The Azure Storage emulator's well-known account (Azurite's default; emberd is configured with the
# same name and key by bench/run.sh).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
VERSION = "2021-12-02"  # sv, and the x-ms-version the bench sends


def _sign(key, sts):
    return base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()


def _expiry(hours):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _q(v):
    return urllib.parse.quote(v, safe="")


def container_sas(container, permissions="racwd", expiry=None, account=ACCOUNT, key=KEY, version=VERSION):
    """Query string (no '?') of a service SAS for every blob of `container` (sr=c)."""
    se = expiry or _expiry(6)
    resource = f"/blob/{account}/{container}"
    # sp, st, se, canonicalized resource, si, sip, spr, sv, sr, snapshot time, ses, rscc, rscd, rsce,
    # rscl, rsct (signed versions 2020-12-06 and later)
    sts = "\n".join([permissions, "", se, resource, "", "", "", version, "c", "", "", "", "", "", "", ""])
    sig = _sign(key, sts)
    return f"sv={version}&sr=c&sp={permissions}&se={_q(se)}&sig={_q(sig)}"


def account_sas(permissions="racwdl", expiry=None, account=ACCOUNT, key=KEY, version=VERSION):
    """Query string (no '?') of an account SAS for the Blob service, every resource type."""
    se = expiry or _expiry(6)
    # account, sp, ss, srt, st, se, sip, spr, sv, ses, each followed by '\n' (2020-12-06 and later)
    sts = "".join(f"{x}\n" for x in [account, permissions, "b", "sco", "", se, "", "", version, ""])
    sig = _sign(key, sts)
    return f"sv={version}&ss=b&srt=sco&sp={permissions}&se={_q(se)}&sig={_q(sig)}"


def selftest():
    """Compares the signatures with the Azure SDK's (same sv, sp and se); raises on a mismatch.
    Returns False when the SDK is not importable (nothing checked), True when it matched."""
    try:
        from azure.storage.blob import (AccountSasPermissions, ContainerSasPermissions, ResourceTypes,
                                        generate_account_sas, generate_container_sas)
    except ImportError:
        return False
    exp = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    se = exp.strftime("%Y-%m-%dT%H:%M:%SZ")
    sdk = generate_container_sas(ACCOUNT, "bench", account_key=KEY,
                                 permission=ContainerSasPermissions(read=True, add=True, create=True,
                                                                    write=True, delete=True),
                                 expiry=exp)
    q = dict(urllib.parse.parse_qsl(sdk))
    mine = dict(urllib.parse.parse_qsl(container_sas("bench", q["sp"], se, version=q["sv"])))
    if mine["sig"] != q["sig"]:
        raise SystemExit(f"azsas selftest: container SAS mismatch:\n sdk  {sdk}\n mine {mine}")
    sdk = generate_account_sas(ACCOUNT, KEY, ResourceTypes(service=True, container=True, object=True),
                               AccountSasPermissions(read=True, write=True, delete=True, list=True,
                                                     add=True, create=True),
                               expiry=exp)
    q = dict(urllib.parse.parse_qsl(sdk))
    mine = dict(urllib.parse.parse_qsl(account_sas(q["sp"], se, version=q["sv"])))
    if mine["sig"] != q["sig"]:
        raise SystemExit(f"azsas selftest: account SAS mismatch:\n sdk  {sdk}\n mine {mine}")
    return True


if __name__ == "__main__":
    print("azsas selftest", "ok" if selftest() else "skipped (no azure-storage-blob)")
