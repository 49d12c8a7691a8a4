"""Signed commitments (承诺书): versioned texts per region and purpose, and the signatures people give.

A commitment replaces a proof where the catalog allows it. What the person signs is fixed: the exact text
version and the data they filed are hashed together (SHA-256 over canonical JSON) at the moment they sign,
and the hash is printed on the receipt and the filing record, so anyone can later check that neither the
stored text nor the stored data has changed since. Signatures are kept at least two years (S17).
"""
