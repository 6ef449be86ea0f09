"""Where files live: the private folder by default, an S3-compatible store with OTOORDER_STORAGE_URL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages

from otoorder.storage import StorageURLError, default_storage_settings, s3_options

REPO = Path(__file__).resolve().parents[1]


def test_the_embedded_default_is_the_private_folder(settings):
    # Nothing in the test environment sets the URL: the default storage is the folder.
    assert "OTOORDER_STORAGE_URL" not in os.environ
    assert settings.STORAGES["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert isinstance(storages["default"], FileSystemStorage)
    assert storages["default"].location == str(settings.MEDIA_ROOT)


def test_the_url_gives_the_s3_options():
    options = s3_options("s3+http://KEY:se%2Fcr%2Bet@127.0.0.1:18306/otoorder/chain-1/files?region=eu-central-1")
    assert options["access_key"] == "KEY"
    assert options["secret_key"] == "se/cr+et"
    assert options["endpoint_url"] == "http://127.0.0.1:18306"
    assert options["use_ssl"] is False
    assert (options["bucket_name"], options["location"], options["region_name"]) == ("otoorder", "chain-1/files", "eu-central-1")
    # Private objects, short-lived signatures, no overwriting of a file of the same name.
    assert options["default_acl"] is None
    assert options["querystring_auth"] is True and options["querystring_expire"] == 60
    assert options["file_overwrite"] is False
    assert options["client_config"].s3 == {"addressing_style": "path"}

    https = s3_options("s3://s3.eu-central-1.example.com/bucket")
    assert https["endpoint_url"] == "https://s3.eu-central-1.example.com" and https["use_ssl"] is True
    # No credentials in the URL: boto3 finds its own.
    assert https["access_key"] is None and https["secret_key"] is None
    assert https["region_name"] == "us-east-1" and https["location"] == ""
    assert default_storage_settings("")["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert default_storage_settings("s3://h/b")["BACKEND"] == "storages.backends.s3.S3Storage"


@pytest.mark.parametrize(
    "url, says",
    [
        ("ftp://KEY:TOPSECRET@h/b", "unknown scheme"),
        ("s3://KEY:TOPSECRET@/bucket", "no host"),
        ("s3://KEY:TOPSECRET@h", "no bucket"),
        ("s3://KEY:TOPSECRET@h:port/b", "port"),
        ("s3://KEY:TOPSECRET@h/b?acl=public-read", "unknown parameter(s) acl"),
        ("s3://KEY:TOPSECRET@h/b?addressing_style=sideways", "path or virtual"),
    ],
)
def test_a_wrong_url_is_refused_with_its_reason_and_without_the_secret(url, says):
    with pytest.raises(StorageURLError) as refused:
        default_storage_settings(url)
    assert says in str(refused.value)
    assert "TOPSECRET" not in str(refused.value)


def test_a_process_started_with_the_url_stores_in_the_object_store(s3_server, tmp_path):
    """The setting as an operator gives it: a fresh process, the URL in its environment."""
    url = s3_server.storage_url(prefix="process-check")
    script = (
        "import django; django.setup();"
        "from django.core.files.storage import storages; d = storages['default'];"
        "from django.core.files.base import ContentFile;"
        "print(type(d).__name__);"
        "name = d.save('scans/probe.stl', ContentFile(b'solid probe'));"
        "print(name)"
    )
    env = {**os.environ, "OTOORDER_STORAGE_URL": url, "DJANGO_SETTINGS_MODULE": "otoorder.settings",
           "OTOORDER_PRIVATE_ROOT": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["S3Storage", "scans/probe.stl"]
    stored = s3_server.client().get_object(Bucket=s3_server.bucket, Key="process-check/scans/probe.stl")
    assert stored["Body"].read() == b"solid probe"
    # Nothing of it on the local disk.
    assert not list(tmp_path.iterdir())


def test_the_default_storage_is_the_object_store_in_a_test(s3_storage, s3_server, settings):
    name = default_storage.save("attachments/a.pdf", ContentFile(b"%PDF-1.4 test"))
    assert default_storage.exists(name) and default_storage.size(name) == 13
    with default_storage.open(name, "rb") as handle:
        assert handle.read() == b"%PDF-1.4 test"
    # A second file of the same name gets a name of its own instead of replacing the first.
    assert default_storage.save("attachments/a.pdf", ContentFile(b"other")) != name
    # Private: without the signature the store refuses the object.
    import urllib.error
    import urllib.request

    key = f"{settings.STORAGES['default']['OPTIONS']['location']}/{name}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{s3_server.endpoint}/{s3_server.bucket}/{key}", timeout=5)
    assert refused.value.code == 403
