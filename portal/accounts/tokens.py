"""API bearer tokens (replaced by the accounts feature)."""


def account_from_bearer(raw_token: str):
    return None
