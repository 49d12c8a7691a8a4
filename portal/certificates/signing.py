"""PAdES signatures on certificate PDFs, with the agency's key (pyHanko).

Production names the agency's PEM key and certificate (``PORTAL_SIGNING_KEY_FILE``, ``PORTAL_SIGNING_CERT_FILE``,
optional ``PORTAL_SIGNING_CHAIN_FILE`` and ``PORTAL_SIGNING_KEY_PASSWORD``) and refuses to start without them or
with the development pair (S16). Development creates, on first start, an ECDSA P-256 key and a self-signed
certificate under ``instance/signing/`` (the key file readable by its owner only), marked as development in its
subject so production can tell it apart.

The signature is a PAdES baseline (``ETSI.CAdES.detached``) over the whole file, added as an incremental update:
a byte changed anywhere in the signed range breaks the digest, and anything appended after signing is reported
by the validator. This module imports no Flask, so the configuration can use it before the app exists.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEVELOPMENT_MARK = "DEVELOPMENT - NOT FOR PRODUCTION"
FIELD_NAME = "AgencySignature"
SIGNATURE_BYTES = 16384  # room for the CMS container: an ECDSA or RSA-4096 signature with a chain of a few certs


def is_development_certificate(path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return any(a.value == DEVELOPMENT_MARK for a in units)


def ensure_development_pair(folder: Path, *, common_name: str = "医疗保障经办机构 (development)") -> tuple[Path, Path]:
    """The development key and self-signed certificate under ``folder``, created when missing."""
    key_path, cert_path = folder / "signing-key.pem", folder / "signing-cert.pem"
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    return new_pair(folder, common_name, development=True)


def new_pair(folder: Path, common_name: str, *, development: bool) -> tuple[Path, Path]:
    """An ECDSA P-256 key and a self-signed certificate for it, written to ``folder`` (the key owner-only).

    Development pairs carry ``DEVELOPMENT_MARK`` in their subject; a production deployment uses a key and a
    certificate issued to the agency instead (a self-signed one is only trusted by whoever is given it).
    """
    key_path, cert_path = folder / "signing-key.pem", folder / "signing-cert.pem"
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Medical Security Online Service Hall"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if development:
        attributes.insert(2, x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEVELOPMENT_MARK))
    name = x509.Name(attributes)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


_signers: dict[tuple, Any] = {}
_lock = threading.Lock()


def signer_for(settings: dict[str, Any]) -> Any:
    """The pyHanko signer of the configured key and certificate, loaded once per process."""
    from pyhanko.sign import signers

    cache_key = (settings["key"], settings["cert"], settings.get("chain"))
    signer = _signers.get(cache_key)
    if signer is None:
        with _lock:
            signer = _signers.get(cache_key)
            if signer is None:
                password = settings.get("password")
                signer = signers.SimpleSigner.load(
                    settings["key"], settings["cert"],
                    ca_chain_files=(settings["chain"],) if settings.get("chain") else None,
                    key_passphrase=password.encode() if password else None,
                )
                if signer is None:
                    raise RuntimeError("the certificate signing key or certificate could not be loaded")
                _signers[cache_key] = signer
    return signer


def sign_pdf(pdf: bytes, settings: dict[str, Any], *, reason: str = "", location: str = "") -> bytes:
    """``pdf`` with a PAdES signature of the agency added as an incremental update."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None, location=location or None,
    )
    out = io.BytesIO()
    # a fixed reservation spares pyHanko a dry-run signature to estimate the size (half the cost of signing)
    pdf_signer = signers.PdfSigner(metadata, signer=signer_for(settings))
    _run_async(lambda: pdf_signer.async_sign_pdf(writer, output=out, bytes_reserved=SIGNATURE_BYTES))
    return out.getvalue()


def _run_async(make_coroutine: Any) -> Any:
    """Run pyHanko's coroutine to the end from synchronous code, also where this thread already runs an event
    loop (an async server, a test driving a browser): then in a thread of its own, since asyncio.run() cannot
    nest."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


def trust_roots(settings: dict[str, Any]) -> list[Any]:
    """The certificates a validator should trust for our signatures: the signing certificate's chain."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    roots = []
    for path in filter(None, (settings.get("chain"), settings["cert"])):
        data = Path(path).read_bytes()
        for _type, _headers, der in pem.unarmor(data, multiple=True):
            roots.append(asn1_x509.Certificate.load(der))
    return roots
