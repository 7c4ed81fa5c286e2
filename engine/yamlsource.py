"""YAML documents with the line of every field, so errors can point at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceError(Exception):
    """A mistake in a YAML file, located by file, line and field path."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f" {self.field}:" if self.field else ""
        return f"{self.path}:{self.line}:{where} {self.message}"


@dataclass
class Document:
    """One YAML document: its data and the line (1-based) of each field path."""

    path: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    start_line: int = 1

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest known prefix of ``loc``."""
        for cut in range(len(loc), 0, -1):
            line = self.lines.get(tuple(loc[:cut]))
            if line is not None:
                return line
        return self.start_line

    def error(self, loc: Loc, message: str) -> SourceError:
        return SourceError(self.path, self.line_of(loc), format_loc(loc), message)


def format_loc(loc: Loc) -> str:
    """``('when', 'count', 'by', 0)`` -> ``when.count.by[0]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


#: Levels of mappings and sequences in one document. A rule nests a dozen at most;
#: composing (and everything after: pydantic, the compiler) recurses once per level.
MAX_NESTING = 50
#: Nodes that aliases may add to one document, expanded: a 500-byte file of aliases
#: of aliases (a "billion laughs") otherwise expands to 10^9 nodes in whatever walks it.
MAX_ALIAS_NODES = 10_000


class BoundedLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses, at the node's line, nesting past ``MAX_NESTING``,
    aliases that would expand past ``MAX_ALIAS_NODES`` nodes, and an alias to a node
    that contains it (a cycle no walk ends). It counts while composing, so a refused
    document costs about its own length."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._expanded = 0  # nodes composed in this document, aliases expanded
        self._aliased = 0  # of which aliases brought
        self._sizes: dict[int, int] = {}  # id(node) -> its nodes, expanded

    def compose_document(self) -> Any:
        self._expanded = self._aliased = 0
        self._sizes.clear()
        return super().compose_document()

    def _peek(self) -> Any:
        peek: Any = self.peek_event  # PyYAML has no type hints
        return peek()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self._peek()
        mark = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None:
                size = self._sizes.get(id(target))
                if size is None:
                    raise yaml.composer.ComposerError(
                        None, None, "an alias inside the node it names (a cycle)", mark)
                self._expanded += size
                self._aliased += size
                if self._aliased > MAX_ALIAS_NODES:
                    raise yaml.composer.ComposerError(
                        None, None, f"aliases expand past {MAX_ALIAS_NODES} nodes", mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_NESTING} levels", mark)
        before = self._expanded
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._expanded += 1
        self._sizes[id(node)] = self._expanded - before
        return node


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], path: str) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise SourceError(path, key_node.start_mark.line + 1, format_loc((*loc, key)),
                                  f"duplicate key (first at line {seen[key]})")
            seen[key] = key_node.start_mark.line + 1
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*loc, key), lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), lines, path)


def read_text(path: Path) -> str:
    """The file as UTF-8 text; unreadable or binary content is a ``SourceError`` like
    any other mistake in the file, located at the line of the first bad byte."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(str(path), 1, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(str(path), line, "", f"not UTF-8 text (byte 0x{data[exc.start]:02x} "
                          f"at offset {exc.start})") from None


def load_documents(path: Path | str, text: str | None = None) -> list[Document]:
    """Every document of a YAML file, safely loaded (no tags that run code) within the
    nesting and alias bounds (``BoundedLoader``)."""
    name = str(path)
    if text is None:
        text = read_text(Path(path))
    try:  # the reader refuses control characters as soon as it is built
        loader = BoundedLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise SourceError(name, line, "", f"not YAML text: {exc.reason} "
                          f"(character #x{exc.character:04x})") from None
    docs: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            lines: dict[Loc, int] = {}
            _walk(node, (), lines, name)
            data = loader.construct_document(node)
            docs.append(Document(name, data, lines, node.start_mark.line + 1))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SourceError(name, line, "", f"invalid YAML: {exc.problem or exc}") from None
    finally:
        loader.dispose()
    return docs


def validation_problems(exc: ValidationError) -> list[tuple[Loc, str]]:
    """pydantic's errors as (field path, message), in words a YAML author reads:
    ``unknown key``, ``required key is missing``, a validator's own sentence."""
    problems: list[tuple[Loc, str]] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key is missing"
        else:
            message = err["msg"].removeprefix("Value error, ")
        problems.append((loc, message))
    return problems


def load_model(path: Path | str, model: type[M], what: str = "file") -> M:
    """A one-document YAML file validated as ``model``; the first mistake raises
    ``SourceError`` with its line and field."""
    docs = load_documents(path)
    if len(docs) != 1:
        raise SourceError(str(path), 1, "", f"a {what} holds one YAML document")
    doc = docs[0]
    try:
        return model.model_validate(doc.data or {})
    except ValidationError as exc:
        loc, message = validation_problems(exc)[0]
        raise doc.error(loc, message) from None
