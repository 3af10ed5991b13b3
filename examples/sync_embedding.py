"""Embedding the core: a synchronous Google API client on urllib3, on public names only.

Usage: python sync_embedding.py TARGET_LANGUAGE TEXT...
"""

import sys

import urllib3
from _where import api_key, endpoints

from aiogoogle import GoogleAPI, sansio
from aiogoogle.excs import TransportError

verified = urllib3.PoolManager()  # TLS verified (system trust store / certifi)
unverified = urllib3.PoolManager(cert_reqs="CERT_NONE")


def send(request):
    """One exchange: the URL as given, no redirects followed, nothing decompressed or logged."""
    pool = (verified if request.verify_ssl else unverified).connection_from_url(request.url)
    target = "/" + request.url.split("://", 1)[1].partition("/")[2].partition("#")[0]
    timeout = urllib3.Timeout(connect=request.timeout.connect, read=request.timeout.read)
    try:
        r = pool.urlopen(request.method, target, body=request.body or None, headers=dict(request.headers),
                         redirect=False, retries=False, preload_content=False, decode_content=False,
                         timeout=timeout, assert_same_host=False)
    except urllib3.exceptions.HTTPError as exc:
        raise TransportError(f"urllib3: {type(exc).__name__}", url=request.url) from None
    return sansio.Reply(r.status, r.headers.items(), r.stream(64 * 1024, decode_content=False), r.reason or "",
                        close=r.release_conn)


def call(request, key=None):
    """Send an aiogoogle Request (with an API key) and return its Response."""
    auth = sansio.AuthInfo(query=(("key", key),)) if key else sansio.AuthInfo()
    return sansio.run_sync(sansio.call_flow(request, sansio.CallOptions()), send, authorize=lambda stale: auth)


def discover(name, version):
    where = endpoints().get("discovery_endpoints", sansio.DiscoveryEndpoints())
    return GoogleAPI(sansio.run_sync(sansio.discovery_flow(name, version, where, sansio.CallOptions(), None), send))


def main(target, texts):
    translate = discover("translate", "v2")
    response = call(translate.translations.list(q=texts, target=target), key=api_key())
    response.raise_for_status()
    for translation in response.json["data"]["translations"]:
        print(translation["translatedText"])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
