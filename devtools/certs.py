"""A throwaway certificate authority for the local secured cluster and its clients.

:class:`CertificateAuthority` makes a CA (EC P-256: quick to generate, and both
Kafka's PEM keystores and Python's ``ssl`` read it) and issues certificates
whose common name is the principal (``broker``, ``unionhub``, ``district-nanshan``):
the broker maps ``CN=<name>`` to ``User:<name>``, so a client certificate and a
SCRAM login of the same name are one principal under one set of ACLs. Private
keys are written owner-only. Never for production: a federation's CA is its own.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=30)
_PEM = serialization.Encoding.PEM


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate's files: its PEM chain, its key, and both in one (Kafka's PEM keystore)."""

    name: str
    certfile: Path
    keyfile: Path
    keystore: Path


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA whose certificate is ``cafile`` and key ``keyfile``, under ``directory``."""

    directory: Path
    name: str

    @property
    def cafile(self) -> Path:
        """The CA certificate (PEM): what clients and brokers trust."""
        return self.directory / f"{self.name}.pem"

    @property
    def keyfile(self) -> Path:
        """The CA's private key (PEM, owner-only)."""
        return self.directory / f"{self.name}.key"

    @classmethod
    def create(cls, directory: Path, name: str = "ca") -> CertificateAuthority:
        """The CA in ``directory``; made there unless it exists already (idempotent)."""
        ca = cls(directory, name)
        if ca.cafile.exists() and ca.keyfile.exists():
            return ca
        directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"unionhub local {name}")])
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        _write_private(ca.keyfile, _key_pem(key))
        ca.cafile.write_bytes(certificate.public_bytes(_PEM))
        return ca

    def issue(self, name: str, *, hosts: tuple[str, ...] = ()) -> IssuedCertificate:
        """A certificate for ``CN=name`` (client and server use), ``hosts`` as its names."""
        issued = IssuedCertificate(
            name,
            self.directory / f"{name}.pem",
            self.directory / f"{name}.key",
            self.directory / f"{name}.keystore.pem",
        )
        if issued.keystore.exists():
            return issued
        ca_key = serialization.load_pem_private_key(self.keyfile.read_bytes(), password=None)
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
            raise TypeError(f"{self.keyfile} is not this module's EC key")
        ca_cert = x509.load_pem_x509_certificate(self.cafile.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        )
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False
            )
        certificate = builder.sign(ca_key, hashes.SHA256())
        chain = certificate.public_bytes(_PEM) + ca_cert.public_bytes(_PEM)
        issued.certfile.write_bytes(chain)
        _write_private(issued.keyfile, _key_pem(key))
        _write_private(issued.keystore, _key_pem(key) + chain)
        return issued


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (from its creation on)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def main(argv: list[str] | None = None) -> int:
    """``python -m devtools.certs DIR HOST...``: a trial CA and the brokers' keystore in DIR."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("directory", type=Path, help="where ca.pem and broker.* go")
    parser.add_argument("hosts", nargs="+", help="the brokers' host names (localhost is added)")
    args = parser.parse_args(argv)
    ca = CertificateAuthority.create(args.directory)
    broker = ca.issue("broker", hosts=(*args.hosts, "localhost"))
    print(f"CA {ca.cafile}; brokers' keystore {broker.keystore} (CN=broker)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
