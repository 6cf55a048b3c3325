"""YAML in and out, with the limits a config file deserves.

Reading uses libyaml's safe loader (fast) and turns every way a text can be bad into a finding.
Writing uses a small block-style emitter for JSON-shaped data: it is several times faster than
PyYAML's dumper (the render budget is 50 ms for 1,000 models), byte-for-byte deterministic, and
property-tested to load back to the same data with PyYAML.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import yaml

from .findings import Finding, Severity
from .items import REDACTED, JSONValue, Secret
from .secrets import (
    has_embedded_password,
    is_auth_header_value,
    looks_secret_key,
    mask_secret_value,
    mask_url_password,
)

MAX_CONFIG_BYTES: Final = 8 * 1024 * 1024  # a 373-model real config is ~100 kB
MAX_DEPTH: Final = 64

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """libyaml's safe loader that yields JSON-shaped data and notes what it had to change.

    PyYAML keeps the last of two equal keys silently and builds dates, bytes and sets; a config
    that the Master stores as JSON and renders back must not change meaning on the way, so
    duplicates, non-string keys and non-JSON tags become findings instead.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[Finding] = []

    def note(self, rule: str, severity: Severity, node: yaml.Node, message: str) -> None:
        line = node.start_mark.line + 1 if node.start_mark else 0
        self.problems.append(Finding(rule, severity, "", f"Line {line}: {message}"))

    def build(self) -> JSONValue:
        """The document as JSON-shaped data. An iterative constructor: faster than PyYAML's
        recursive one for the common nodes (text, maps, lists) and it cannot overflow the stack;
        other scalars (numbers, booleans, null, dates) go through PyYAML's own constructors."""
        root = self.get_single_node()
        if root is None:
            return None
        built: dict[int, JSONValue] = {}  # node id → value: aliases share one object, as in PyYAML
        pending: list[tuple[yaml.Node, JSONValue]] = []

        def value_of(node: yaml.Node) -> JSONValue:
            known = built.get(id(node), _NOTHING)
            if known is not _NOTHING:
                return known
            tag = node.tag
            if tag == _STR and type(node) is yaml.ScalarNode:
                return node.value
            if tag == _MAP and type(node) is yaml.MappingNode:
                value: JSONValue = {}
            elif tag == _SEQ and type(node) is yaml.SequenceNode:
                value = []
            else:
                value = self.construct_object(node, deep=True)
                built[id(node)] = value
                return value
            built[id(node)] = value
            pending.append((node, value))
            return value

        result = value_of(root)
        while pending:
            node, container = pending.pop()
            if isinstance(container, list):
                container.extend(value_of(child) for child in node.value)
            else:
                assert isinstance(node, yaml.MappingNode)
                self.fill_mapping(node, container, value_of)
        return result

    def fill_mapping(
        self,
        node: yaml.MappingNode,
        mapping: dict[str, Any],
        value_of: Callable[[yaml.Node], JSONValue],
    ) -> None:
        # Merge keys (<<) put the merged pairs first; an explicit key may then override one of
        # them, which is YAML's meaning, so only explicit keys count as duplicates.
        explicit = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        self.flatten_mapping(node)
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.note(
                    "config.key-type",
                    Severity.ERROR,
                    key_node,
                    "a mapping key must be a plain name, not a list or mapping.",
                )
                continue
            key = key_node.value
            if key_node.tag != _STR:
                self.note(
                    "config.key-type",
                    Severity.WARNING,
                    key_node,
                    f"the key {key!r} is read as the text {key!r}; quote it to say so.",
                )
            if id(key_node) in explicit:
                if key in seen:
                    self.note(
                        "config.key-duplicate",
                        Severity.ERROR,
                        key_node,
                        f"the key {key!r} appears twice in one mapping; YAML keeps only the "
                        "last, so the first would be lost silently.",
                    )
                seen.add(key)
            mapping[key] = value_of(value_node)

    def construct_json_mapping(self, node: yaml.MappingNode) -> dict[str, Any]:
        """A mapping reached through PyYAML's constructor (inside a set or merge): same rules."""
        mapping: dict[str, Any] = {}
        self.fill_mapping(node, mapping, lambda n: self.construct_object(n, deep=True))
        return mapping

    def construct_text_scalar(self, node: yaml.ScalarNode) -> str:
        # Dates stay as written: JSON has no date, and LiteLLM reads these fields as text.
        return str(node.value)

    def construct_unsupported(self, node: yaml.Node) -> None:
        self.note(
            "config.yaml-type",
            Severity.ERROR,
            node,
            f"the YAML type {node.tag} has no place in a LiteLLM config.",
        )


_STR: Final = "tag:yaml.org,2002:str"
_MAP: Final = "tag:yaml.org,2002:map"
_SEQ: Final = "tag:yaml.org,2002:seq"
_NOTHING: Final = object()

_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_json_mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_text_scalar)
for _tag in ("binary", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _Loader.construct_unsupported)


@dataclass(frozen=True)
class Parsed:
    """The result of reading YAML text: the value (None when unusable) and what went wrong."""

    value: JSONValue
    findings: tuple[Finding, ...] = ()
    usable: bool = True  # False when the text could not be read at all (value is None)

    @property
    def ok(self) -> bool:
        """Read without any problem."""
        return self.usable and not self.findings


def _error(rule: str, message: str, path: str = "") -> Parsed:
    return Parsed(None, (Finding(rule, Severity.ERROR, path, message),), usable=False)


def decode_config_bytes(raw: bytes) -> tuple[str | None, Finding | None]:
    """Bytes of a file → text, or a finding naming why it is not a UTF-8 text file."""
    if len(raw) > MAX_CONFIG_BYTES:
        size_mb = len(raw) / (1024 * 1024)
        return None, Finding(
            "config.too-large",
            Severity.ERROR,
            "",
            f"The file is {size_mb:.1f} MB; a LiteLLM config over "
            f"{MAX_CONFIG_BYTES // (1024 * 1024)} MB is not supported. Is this the right file?",
        )
    if b"\x00" in raw:
        return None, Finding(
            "config.binary", Severity.ERROR, "", "This is a binary file, not a YAML config."
        )
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, Finding(
            "config.encoding",
            Severity.ERROR,
            "",
            f"The file is not UTF-8 text (undecodable byte at offset {exc.start}). "
            "Save it as UTF-8 and try again.",
        )


def parse_yaml(text: str, *, path: str = "") -> Parsed:
    """Parse YAML text. Never raises: syntax errors, bombs and deep nesting become findings."""
    if len(text) > MAX_CONFIG_BYTES:
        return _error("config.too-large", "The YAML text is larger than 8 MB.", path)
    loader = _Loader(text)
    try:
        value = loader.build()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or "invalid YAML"
        return _error("config.yaml-syntax", f"YAML syntax error{where}: {problem}.", path)
    except yaml.YAMLError as exc:
        return _error("config.yaml-syntax", f"YAML error: {exc}.", path)
    except RecursionError:
        return _error(
            "config.too-deep", f"The YAML is nested deeper than {MAX_DEPTH} levels.", path
        )
    except (ValueError, TypeError, OverflowError) as exc:
        # A tag or scalar that does not construct: `!!int "abc"`, 2024-13-45, a 5,000-digit int.
        reason = str(exc).split("\n", 1)[0][:120]
        return _error("config.yaml-value", f"A value cannot be read: {reason}.", path)
    finally:
        loader.dispose()
    if not _within_limits(value):
        return _error(
            "config.too-deep",
            f"The YAML is nested deeper than {MAX_DEPTH} levels or repeats anchors "
            "too often to be a config file.",
            path,
        )
    return Parsed(value, tuple(loader.problems))


_MAX_NODES: Final = 2_000_000  # guards against alias ("billion laughs") expansion


def _within_limits(value: JSONValue) -> bool:
    """Iterative depth and node-count check (no recursion, so it cannot overflow)."""
    stack: list[tuple[JSONValue, int]] = [(value, 0)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if depth > MAX_DEPTH or seen > _MAX_NODES:
            return False
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return True


# ---------------------------------------------------------------------------------------------
# Emitter

_PLAIN: Final = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@+()=~$-]*(?::[A-Za-z0-9_./@+()=~$%?&-]+)*")
_YAML11_WORDS: Final = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"})
_INDENT: Final = "  "


def _quote(text: str) -> str:
    if text.isascii() and text.isprintable():
        return json.dumps(text)
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or 0xD800 <= code <= 0xDFFF
            or code
            in (
                0xFEFF,
                0xFFFE,
                0xFFFF,
                0x2028,
                0x2029,
            )
        ):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@functools.lru_cache(maxsize=16384)  # keys and many values repeat for every model
def _string(text: str) -> str:
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML11_WORDS:
        return text
    return _quote(text)


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    # PyYAML (YAML 1.1) only reads a float with a dot in the mantissa: 1e-06 would be a string.
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


class _Emitter:
    def __init__(self, *, redact: bool) -> None:
        self.redact = redact
        self.lines: list[str] = []

    def scalar(self, value: JSONValue) -> str:
        if isinstance(value, str):
            return _string(value)
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return _float(value)
        if isinstance(value, Secret):
            return _string(REDACTED if self.redact else value.reveal())
        raise TypeError(f"cannot render a {type(value).__name__} into YAML")

    def key(self, key: object) -> str:
        if isinstance(key, str):
            return _string(key)
        if isinstance(key, bool) or key is None or isinstance(key, int | float):
            return self.scalar(key)
        raise TypeError(f"cannot render a {type(key).__name__} mapping key into YAML")

    def mapping(self, data: Mapping[object, JSONValue], indent: str) -> None:
        for k, v in data.items():
            if self.redact:
                v = _redacted_literal(k, v)
            head = f"{indent}{self.key(k)}:"
            if isinstance(v, dict) and v:
                self.lines.append(head)
                self.mapping(v, indent + _INDENT)
            elif isinstance(v, list) and v:
                self.lines.append(head)
                self.sequence(v, indent + _INDENT)
            else:
                self.lines.append(f"{head} {self.inline(v)}")

    def sequence(self, data: list[JSONValue], indent: str) -> None:
        for v in data:
            if self.redact and isinstance(v, str) and has_embedded_password(v):
                v = mask_url_password(v)
            if isinstance(v, dict) and v:
                start = len(self.lines)
                self.mapping(v, indent + _INDENT)
                # "- " takes the place of the first key's indentation.
                self.lines[start] = f"{indent}- {self.lines[start][len(indent) + 2 :]}"
            elif isinstance(v, list) and v:
                self.lines.append(f"{indent}-")
                self.sequence(v, indent + _INDENT)
            else:
                self.lines.append(f"{indent}- {self.inline(v)}")

    def inline(self, value: JSONValue) -> str:
        if isinstance(value, dict):
            return "{}"
        if isinstance(value, list):
            return "[]"
        return self.scalar(value)


def _redacted_literal(key: object, value: JSONValue) -> JSONValue:
    """In previews, literal secrets under secret-looking keys show as *** too, not only vault
    secrets; so does the password part of a URL."""
    if isinstance(key, str) and (looks_secret_key(key) or "webhook" in key.lower()):
        return mask_secret_value(value)
    if is_auth_header_value(value):
        return REDACTED
    if isinstance(value, str) and has_embedded_password(value):
        return mask_url_password(value)
    return value


def dump_yaml(data: JSONValue, *, redact: bool = False) -> str:
    """Block-style YAML for JSON-shaped data. Secrets become literals, or *** when redacting."""
    emitter = _Emitter(redact=redact)
    if isinstance(data, dict) and data:
        emitter.mapping(data, "")
    elif isinstance(data, list) and data:
        emitter.sequence(data, "")
    else:
        emitter.lines.append(emitter.inline(data))
    return "\n".join(emitter.lines) + "\n"
