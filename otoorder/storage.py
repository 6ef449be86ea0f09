"""Where uploaded and generated files live: the default storage, from one setting.

Without ``OTOORDER_STORAGE_URL`` (the embedded default) files lie in the private folder
``MEDIA_ROOT`` (``OTOORDER_PRIVATE_ROOT``) of the machine, as Django's ``FileSystemStorage``.
With it they lie in an S3-compatible object store (django-storages' ``S3Storage`` on boto3),
so that every web process and every worker, on whatever host, reads what another stored::

    s3://ACCESS_KEY:SECRET_KEY@HOST[:PORT]/BUCKET[/PREFIX][?region=eu-central-1]
    s3+http://ACCESS_KEY:SECRET_KEY@HOST[:PORT]/BUCKET[/PREFIX]

``s3://`` speaks HTTPS to the store, ``s3+http://`` plain HTTP (a store on the same private
network). Key and secret are percent-encoded where they hold ``/``, ``+``, ``@`` or ``:``;
without them boto3 finds its own credentials (``AWS_ACCESS_KEY_ID``, an instance role).
Query parameters: ``region`` (default ``us-east-1``) and ``addressing_style`` (``path``, the
default, which every S3-compatible server understands, or ``virtual``).

Files stay private: objects are written without an ACL (the bucket's own policy, private by
default) and no view hands out their URL; downloads pass the branch check of their view and
are streamed from the storage. Should anything ever ask the storage for a URL, it is signed
and lives one minute.

This module is read by the settings: it imports neither Django models nor boto3 at import time.
"""

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

#: Schemes of ``OTOORDER_STORAGE_URL`` and the endpoint protocol each speaks.
SCHEMES = {"s3": "https", "s3+https": "https", "s3+http": "http"}
#: Query parameters the URL may carry.
QUERY_PARAMETERS = ("region", "addressing_style")
ADDRESSING_STYLES = ("path", "virtual")
#: Lifetime in seconds of a signed URL, should one ever be issued (no view issues one).
SIGNED_URL_SECONDS = 60
#: An object downloaded for reading is kept in memory up to this size, beyond it on disk.
MAX_MEMORY_BYTES = 5 * 1024 * 1024

FILESYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"


class StorageURLError(ImproperlyConfigured):
    """``OTOORDER_STORAGE_URL`` cannot be understood; the message says why (never the secret)."""


def default_storage_settings(url, timeout=10.0):
    """The ``STORAGES["default"]`` entry for ``url`` (empty: the private folder)."""
    url = (url or "").strip()
    if not url:
        return {"BACKEND": FILESYSTEM_BACKEND}
    return {"BACKEND": S3_BACKEND, "OPTIONS": s3_options(url, timeout=timeout)}


def s3_options(url, timeout=10.0):
    """The options of django-storages' ``S3Storage`` for an ``s3://`` URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise StorageURLError(
            f"OTOORDER_STORAGE_URL: unknown scheme {parts.scheme!r}; use s3:// (HTTPS) or s3+http://."
        )
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise StorageURLError("OTOORDER_STORAGE_URL: the port is not a number.") from None
    if not host:
        raise StorageURLError("OTOORDER_STORAGE_URL names no host of the object store.")
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    if not segments:
        raise StorageURLError("OTOORDER_STORAGE_URL names no bucket (s3://…@host/BUCKET).")
    bucket, location = segments[0], "/".join(segments[1:])
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - set(QUERY_PARAMETERS))
    if unknown:
        raise StorageURLError(
            f"OTOORDER_STORAGE_URL: unknown parameter(s) {', '.join(unknown)}; "
            f"known: {', '.join(QUERY_PARAMETERS)}."
        )
    region = query.get("region", ["us-east-1"])[-1] or "us-east-1"
    addressing_style = query.get("addressing_style", ["path"])[-1] or "path"
    if addressing_style not in ADDRESSING_STYLES:
        raise StorageURLError("OTOORDER_STORAGE_URL: addressing_style is path or virtual.")
    protocol = SCHEMES[scheme]
    netloc = f"[{host}]" if ":" in host else host
    endpoint = f"{protocol}://{netloc}" + (f":{port}" if port else "")

    from botocore.config import Config

    return {
        "access_key": unquote(parts.username) if parts.username else None,
        "secret_key": unquote(parts.password) if parts.password else None,
        "bucket_name": bucket,
        "location": location,
        "endpoint_url": endpoint,
        "region_name": region,
        "use_ssl": protocol == "https",
        # Private: no ACL on the objects (the bucket's policy rules), signed short-lived URLs only.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": SIGNED_URL_SECONDS,
        # Like the private folder: a second file of the same name gets a name of its own.
        "file_overwrite": False,
        "max_memory_size": MAX_MEMORY_BYTES,
        "client_config": Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    }

