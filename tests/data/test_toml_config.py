"""The one validated-TOML loader: errors name the file, the line or key path, and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, field_validator

from systemic.data.errors import MappingError
from systemic.data.linkage import LinkSettingsError, load_link_settings
from systemic.data.mapping import load_mapping
from systemic.data.toml_config import KeyedError, load_toml


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activity: str
    days: int = 1

    @field_validator("activity")
    @classmethod
    def _named(cls, v: str) -> str:
        if v == "?":
            raise KeyedError(("name",), "say which activity")
        return v


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str
    rules: list[Rule] = []


class ConfigError(Exception):
    pass


def load(tmp_path: Path, text: str | bytes) -> Config:
    path = tmp_path / "config.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return load_toml(
        path, Config, error=ConfigError, what="config file", option="--config", docs="docs/x.md"
    )


def test_a_good_file_is_validated(tmp_path: Path) -> None:
    config = load(tmp_path, 'service = "Housing"\n[[rules]]\nactivity = "call"\ndays = 3\n')
    assert config == Config(service="Housing", rules=[Rule(activity="call", days=3)])


def test_bad_syntax_names_the_file_and_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, 'service = "Housing"\n\n[[rules]]\nactivity = call\n')
    text = str(caught.value)
    assert text.startswith(f"{tmp_path / 'config.toml'}: not valid TOML at line 4, column 12")
    assert text.endswith("fix the syntax at that line")
    assert text.count("line 4") == 1  # said once, not again in TOML's own words


def test_unknown_key_names_its_path_and_where_the_keys_are_listed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, 'service = "Housing"\n[[rules]]\nactivity = "a"\n[[rules]]\nactvity = "b"\n')
    lines = str(caught.value).splitlines()
    path = tmp_path / "config.toml"
    assert f"{path}: key rules #2.actvity: unknown key: check the spelling (see docs/x.md" in (
        "\n".join(lines)
    )
    # and every problem of the file at once: the missing activity of the same rule too
    assert f"{path}: key rules #2.activity: required key is missing: add it" in "\n".join(lines)
    assert len(lines) == 2


def test_wrong_type_says_what_was_found(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, 'service = "Housing"\n[[rules]]\nactivity = "a"\ndays = "three"\n')
    assert str(caught.value) == (
        f"{tmp_path / 'config.toml'}: key rules #1.days: Input should be a valid integer, "
        "unable to parse string as an integer (found 'three')"
    )


def test_a_problem_below_the_key_that_raised_it_is_named_there(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"key rules #1\.activity\.name: say which activity$"):
        load(tmp_path, 'service = "Housing"\n[[rules]]\nactivity = "?"\n')


def test_missing_file_and_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="config file not found: check the path given to --config"
    ):
        load_toml(
            tmp_path / "nope.toml",
            Config,
            error=ConfigError,
            what="config file",
            option="--config",
            docs="docs/x.md",
        )
    with pytest.raises(ConfigError, match="byte 14 is not UTF-8: save the config file as UTF-8"):
        load(tmp_path, b'service = "caf\xe9"\n')


@pytest.mark.parametrize(
    ("loader", "error"), [(load_mapping, MappingError), (load_link_settings, LinkSettingsError)]
)
def test_mapping_and_linkage_settings_read_through_it(tmp_path: Path, loader, error) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[fields]\nperson_id = \n", encoding="utf-8")
    with pytest.raises(error, match=r"bad\.toml: not valid TOML at line 2"):
        loader(path)
    path.write_text("[nonsense]\nx = 1\n", encoding="utf-8")
    with pytest.raises(error, match=r"bad\.toml: key nonsense: unknown key"):
        loader(path)
