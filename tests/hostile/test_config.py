"""Hostile connector configs, YAML files and secret references: a ConfigError naming the field.

Covers ``connectors.config.parse_config``, ``connectors.runner.load_config_file``
and ``${file:...}`` references, which may only read inside the secrets dir
(traversal, absolute paths and symlinks pointing out are refused).
"""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.config import parse_config
from connectors.runner import load_config_file
from connectors.secrets import SecretResolver
from core.errors import ConfigError
from tests.hostile.fuzz import FUZZ
from tests.hostile.pii import SECRETS, leaks

CITIZEN: dict[str, Any] = {
    "name": "citizen",
    "channel": "citizen_app",
    "base_url": "http://127.0.0.1:9",
    "client_id": "hub",
    "client_secret": SECRETS[0],
}


def refused(raw: Any, resolver: SecretResolver | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw, resolver or SecretResolver())
    assert not leaks(str(raised.value))
    return raised.value


BAD_CONFIGS: list[tuple[str, dict[Any, Any], str]] = [
    # (class, config, the field the error must name)
    ("channel missing", {k: v for k, v in CITIZEN.items() if k != "channel"}, "channel"),
    ("channel a list", {**CITIZEN, "channel": ["citizen_app"]}, "channel"),
    ("channel a mapping", {**CITIZEN, "channel": {"a": 1}}, "channel"),
    ("channel unknown", {**CITIZEN, "channel": "fax" * 1000}, "channel"),
    ("name with a path", {**CITIZEN, "name": "../etc"}, "name"),
    ("name with bidi", {**CITIZEN, "name": "abc\u202efdp.exe"}, "name"),
    ("name with NUL", {**CITIZEN, "name": "a\x00b"}, "name"),
    ("name 10 MB", {**CITIZEN, "name": "a" * 10_000_000}, "name"),
    ("base_url 10 MB", {**CITIZEN, "base_url": "http://" + "a" * 10_000_000}, "base_url"),
    ("base_url a file URL", {**CITIZEN, "base_url": "file:///etc/passwd"}, "base_url"),
    ("base_url a number", {**CITIZEN, "base_url": 80}, "base_url"),
    ("page_size huge", {**CITIZEN, "page_size": 10**30}, "page_size"),
    ("page_size negative", {**CITIZEN, "page_size": -1}, "page_size"),
    ("page_size a list", {**CITIZEN, "page_size": [1]}, "page_size"),
    ("poll_interval_s zero", {**CITIZEN, "poll_interval_s": 0}, "poll_interval_s"),
    ("poll_interval_s NaN", {**CITIZEN, "poll_interval_s": float("nan")}, "poll_interval_s"),
    ("poll_interval_s inf", {**CITIZEN, "poll_interval_s": float("inf")}, "poll_interval_s"),
    ("unknown field", {**CITIZEN, "debug_dump_secrets": True}, "debug_dump_secrets"),
    ("secret missing", {k: v for k, v in CITIZEN.items() if k != "client_secret"}, "client_secret"),
    ("settings a list", {**CITIZEN, "settings": [1, 2]}, "settings"),
    ("setting name a number", {**CITIZEN, 7: "x"}, "config"),
    ("malformed reference", {**CITIZEN, "client_secret": "${env:X"}, "client_secret"),
    ("unknown reference kind", {**CITIZEN, "client_secret": "${cmd:rm -rf /}"}, "client_secret"),
]


@pytest.mark.parametrize(
    ("raw", "field"), [b[1:] for b in BAD_CONFIGS], ids=[b[0] for b in BAD_CONFIGS]
)
def test_bad_configs_name_the_field(raw: dict[Any, Any], field: str) -> None:
    assert refused(raw).field == field


def test_a_secret_given_in_clear_never_appears_in_the_error() -> None:
    error = refused({**CITIZEN, "client_secret": ["not", SECRETS[0]], "base_url": SECRETS[1]})
    assert SECRETS[0] not in str(error)
    assert SECRETS[1] not in str(error)


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    root = tmp_path / "secrets"
    root.mkdir()
    (root / "client_secret").write_text(SECRETS[0] + "\n")
    (tmp_path / "outside").write_text(SECRETS[1])
    (root / "link_out").symlink_to(tmp_path / "outside")
    (root / "dir_link_out").symlink_to(tmp_path)
    (root / "link_in").symlink_to(root / "client_secret")
    (root / "binary").write_bytes(b"\xff\xfe\x00\x01")
    (root / "huge").write_bytes(b"x" * (10 * 1024 * 1024))
    (root / "sub").mkdir()
    return root


def test_a_file_reference_inside_the_dir_is_read(secrets_dir: Path) -> None:
    resolver = SecretResolver(secrets_dir=secrets_dir)
    for target in ("client_secret", "link_in", "sub/../client_secret", "./client_secret"):
        config = parse_config({**CITIZEN, "client_secret": f"${{file:{target}}}"}, resolver)
        assert config.secrets() == [SECRETS[0]]


def _file_targets(secrets_dir: Path) -> list[tuple[str, str]]:
    outside = secrets_dir.parent / "outside"
    return [
        ("traversal", "../outside"),
        ("deep traversal", "sub/../../outside"),
        ("many dot-dots", "../" * 50 + "etc/passwd"),
        ("absolute path outside", str(outside)),
        ("absolute /etc/passwd", "/etc/passwd"),
        ("symlink pointing out", "link_out"),
        ("through a directory symlink", "dir_link_out/outside"),
        ("NUL byte", "client_secret\x00.txt"),
        ("empty", ""),
        ("the dir itself", "."),
        ("a directory", "sub"),
        ("missing", "nope"),
        ("not UTF-8", "binary"),
        ("10 MB file", "huge"),
        ("/proc of self", "/proc/self/environ"),
    ]


@pytest.mark.parametrize(
    "case",
    range(15),
    ids=[c[0] for c in _file_targets(Path("/x/secrets"))],
)
def test_file_references_cannot_leave_the_secrets_dir(secrets_dir: Path, case: int) -> None:
    _, target = _file_targets(secrets_dir)[case]
    resolver = SecretResolver(secrets_dir=secrets_dir)
    tracemalloc.start()
    try:
        error = refused({**CITIZEN, "client_secret": f"${{file:{target}}}"}, resolver)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.field == "client_secret"
    assert SECRETS[1] not in str(error)
    assert peak < 1_000_000  # the 10 MB file is never read whole


def test_file_references_without_a_secrets_dir_are_refused() -> None:
    error = refused({**CITIZEN, "client_secret": "${file:client_secret}"})
    assert error.field == "client_secret"


def test_env_references_name_the_field_not_the_value() -> None:
    resolver = SecretResolver(environ={"X": SECRETS[1]})
    config = parse_config({**CITIZEN, "client_secret": "${env:X}"}, resolver)
    assert config.secrets() == [SECRETS[1]]
    error = refused({**CITIZEN, "client_secret": "${env:MISSING}"}, resolver)
    assert error.field == "client_secret"


# -- YAML files ------------------------------------------------------------------------

YAML_BOMB = "\n".join(
    ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
)
VALID_YAML = "\n".join(f"{k}: {v}" for k, v in CITIZEN.items())

BAD_YAML: list[tuple[str, bytes, str]] = [
    # (class, file content, the field the error must name; "<path>" for the file itself)
    ("billion laughs via anchors", (YAML_BOMB + "\nname: *a9\nchannel: citizen_app").encode(),
     "name"),
    ("anchor bomb as settings", (YAML_BOMB + "\nsettings: *a9\nchannel: citizen_app").encode(),
     "settings"),
    ("anchor bomb as channel", (YAML_BOMB + "\nchannel: *a9\n").encode(), "channel"),
    ("duplicate key", (VALID_YAML + "\nclient_secret: other\n").encode(), "client_secret"),
    ("duplicate nested key", b"name: a\nchannel: citizen_app\nsettings:\n  x: 1\n  x: 2\n", "x"),
    ("deep nesting", b"name: " + b"[" * 5000 + b"]" * 5000, "<path>"),
    ("deep block nesting", "".join(f"{' ' * i}k:\n" for i in range(1200)).encode(), "<path>"),
    ("not YAML", b"name: [unclosed\n", "<path>"),
    ("a list", b"- name: a\n", "<path>"),
    ("a scalar", b"just text", "<path>"),
    ("empty", b"", "<path>"),
    ("not UTF-8", b"name: \xff\xfe\n", "<path>"),
    ("GBK", "name: 市民\n".encode("gbk"), "<path>"),
    ("python tag", b"name: !!python/object/apply:os.system [echo pwned]\n", "<path>"),
    ("10 MB value", VALID_YAML.replace("hub", "x" * 10_000_000).encode(), "<path>"),
    ("1 MB value", VALID_YAML.replace("hub", "x" * 1_000_000).encode(), "client_id"),
    ("over 1 MiB of comments", (VALID_YAML + "\n" + "#" * 2_000_000).encode(), "<path>"),
    ("wrong type", VALID_YAML.replace("hub", "[1, 2]").encode(), "client_id"),
    ("NUL byte", (VALID_YAML + "\nx: \x00").encode(), "<path>"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "field"), [b[1:] for b in BAD_YAML], ids=[b[0] for b in BAD_YAML]
)
def test_hostile_yaml_files_are_config_errors_naming_the_field(
    tmp_path: Path, content: bytes, field: str
) -> None:
    path = tmp_path / "connector.yaml"
    path.write_bytes(content)
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as raised:
            load_config_file(path, SecretResolver())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert raised.value.field == (str(path) if field == "<path>" else field)
    assert not leaks(str(raised.value))
    assert peak < 64 * 1024 * 1024, f"peak {peak} bytes"


def test_a_valid_yaml_file_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "connector.yaml"
    path.write_text(VALID_YAML + "\nsettings:\n  page_size: 50\n")
    config = load_config_file(path, SecretResolver())
    assert config.name == "citizen"


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config_file(tmp_path / "missing.yaml", SecretResolver())
    fifo_free_dir = tmp_path / "dir.yaml"
    fifo_free_dir.mkdir()
    with pytest.raises(ConfigError):
        load_config_file(fifo_free_dir, SecretResolver())


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_yaml_text_only_config_errors(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config_file(path, SecretResolver())
    except ConfigError as exc:
        problem = str(exc)
    else:
        problem = ""
    assert not leaks(problem)


SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
KEYS = st.sampled_from([*CITIZEN, "settings", "page_size", "poll_interval_s", "x"])


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from([*CITIZEN, "settings", "page_size", "poll_interval_s", "x"]),
        VALUES,
        max_size=4,
    )
)
def test_fuzz_config_fields_only_config_errors(changes: dict[str, Any]) -> None:  # fmt: skip
    try:
        parse_config({**CITIZEN, **changes}, SecretResolver(environ={"E": "v"}))
    except ConfigError as exc:
        problem = str(exc)
    else:
        problem = ""
    assert not leaks(problem)


@FUZZ
@given(st.text(max_size=60))
def test_fuzz_file_references_never_leave_the_dir(
    tmp_path_factory: pytest.TempPathFactory, target: str
) -> None:
    root = tmp_path_factory.mktemp("sec")
    (root.parent / "outside").write_text(SECRETS[1])
    resolver = SecretResolver(secrets_dir=root)
    try:
        value = resolver.resolve("client_secret", f"${{file:{target}}}")
    except ConfigError as exc:
        assert exc.field == "client_secret"  # noqa: PT017 - the field, whichever error it is
        return
    assert value != SECRETS[1]
    assert os.path.realpath(root / target).startswith(str(root.resolve()))
