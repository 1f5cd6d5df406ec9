"""Settings from the environment: typed, with errors that name the variable."""

from pathlib import Path

import pytest

from node.settings import SETTINGS_TABLE, Settings, SettingsError

README = Path(__file__).resolve().parent.parent / "README.md"


def test_defaults_serve_plain_http_on_loopback():
    settings = Settings.from_env({})
    assert settings.domain == "127.0.0.1:8000"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.public_media_url == "http://127.0.0.1:8000/media"


def test_a_public_domain_gets_https_unless_turned_off():
    assert (
        Settings.from_env({"PINHOLE_DOMAIN": "photos.example"}).base_url == "https://photos.example"
    )
    plain = Settings.from_env({"PINHOLE_DOMAIN": "127.0.0.2:8000", "PINHOLE_HTTPS": "false"})
    assert plain.base_url == "http://127.0.0.2:8000"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PINHOLE_PORT", "eighty"),
        ("PINHOLE_PORT", "70000"),
        ("PINHOLE_HTTPS", "perhaps"),
        ("PINHOLE_DOMAIN", "https://photos.example/"),
        ("PINHOLE_DATABASE_URL", "localhost:5432"),
        ("PINHOLE_MEDIA_BACKEND", "floppy"),
    ],
)
def test_malformed_settings_name_the_variable(variable, value):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


def test_every_setting_is_documented_in_the_readme():
    readme = README.read_text()
    missing = [var for _, var, *_ in SETTINGS_TABLE if f"`{var}`" not in readme]
    assert missing == []
