"""Webhook signatures (docs/behaviour.md §6.3): computed by the simulator's sender, checked by the dashboard's
receiver.

``signature`` (v1, deprecated) = base64(HMAC-SHA256(key=api_key, msg=published_timestamp)).
``signature-v2`` = base64(HMAC-SHA256(key=api_key, msg=call_ref + raw_body + published_timestamp)).
The body is the exact bytes sent: never re-serialised between signing and sending.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac


@functools.lru_cache(maxsize=64)
def _keyed(key: str) -> hmac.HMAC:
    return hmac.new(key.encode("utf-8"), digestmod=hashlib.sha256)


def _b64_hmac(key: str, message: bytes) -> str:
    # Copying a keyed HMAC skips re-deriving the key pads: the simulator signs two messages per event.
    mac = _keyed(key).copy()
    mac.update(message)
    return base64.b64encode(mac.digest()).decode("ascii")


def sign_v1(key: str, published_timestamp: str) -> str:
    return _b64_hmac(key, published_timestamp.encode("utf-8"))


def sign_v2(key: str, call_ref: str, raw_body: bytes, published_timestamp: str) -> str:
    return _b64_hmac(key, call_ref.encode("utf-8") + raw_body + published_timestamp.encode("utf-8"))


def verify_v1(key: str, published_timestamp: str, signature: str) -> bool:
    return hmac.compare_digest(sign_v1(key, published_timestamp).encode(), signature.encode())


def verify_v2(key: str, call_ref: str, raw_body: bytes, published_timestamp: str, signature: str) -> bool:
    expected = sign_v2(key, call_ref, raw_body, published_timestamp)
    return hmac.compare_digest(expected.encode(), signature.encode())
