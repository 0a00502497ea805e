"""Standard Webhooks 1.0 secrets and signatures, through the `standardwebhooks`
package that receivers use to verify them."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
# Standard Webhooks asks for 24 to 64 random bytes.
SECRET_BYTES = 32


def new_secret() -> str:
    """`whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature(secrets_: Sequence[str], *, msg_id: str, timestamp: datetime, body: str) -> str:
    """The `webhook-signature` header: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
    for each secret, space-separated (two while a secret is being rotated)."""
    # The package reads the timestamp as UTC whatever its zone: give it UTC.
    moment = timestamp.astimezone(UTC)
    return " ".join(
        Webhook(secret).sign(msg_id=msg_id, timestamp=moment, data=body) for secret in secrets_
    )
