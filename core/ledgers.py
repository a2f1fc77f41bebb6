"""The ledger registry: what a user may download as a ledger, registered by the apps that own the rows.

Each domain app describes its ledgers in its own ``ledgers.py`` (found at start-up like ``admin.py`` and the
import sheets): a key, a Chinese title, and a builder ``build(user, street, *, reveal=False) -> Ledger`` that
scopes the rows with the app's own selectors. ``exports`` (the download pages and jobs) knows only this registry
and the writer: it never reads a domain app's models, so an app adds a ledger without touching that package.
The registry sits in core, below every app, so the ground app registers its part without importing exports.

A ``Ledger`` is ``(title, columns, rows, count)``: ``rows`` is a generator over
``values_list(...).iterator(chunk_size=…)`` querysets, so a download holds exactly the rows the user may see,
in a fixed number of queries, whatever the number of rows; ``count()`` is one ``COUNT`` over the same scope,
which decides whether the file is streamed in the request or written by a background job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from .writer import Col

CHUNK = 5_000  # rows fetched per round trip by the builders' iterators


@dataclass
class Ledger:
    key: str
    title: str
    columns: list[str | Col]
    rows: Iterator[list[Any]]
    count: Callable[[], int] = field(default=lambda: 0)

    def filename(self, suffix: str, street: str | None) -> str:
        return f"{self.title}-{street or '全区'}-{timezone.localdate():%Y%m%d}.{suffix}"


@dataclass(frozen=True)
class LedgerSpec:
    key: str
    title: str
    build: Callable[..., Ledger]
    order: int = 100
    # The ledger can show full ID numbers (人员台账): ``reveal`` is offered to those ``may_reveal`` lets see them,
    # and every such download is recorded through ``record_reveal(user=, request=, where=, count=)``.
    may_reveal: Callable[[Any], bool] | None = None
    record_reveal: Callable[..., None] | None = None

    def reveal_allowed(self, user) -> bool:
        return self.may_reveal is not None and bool(self.may_reveal(user))


class Registry(Mapping[str, LedgerSpec]):
    """The ledgers in menu order; also who sees which 街办 (``streets``), registered by the ground app."""

    def __init__(self) -> None:
        self._specs: dict[str, LedgerSpec] = {}
        self._streets: Callable[[Any], list[tuple[str, str]]] | None = None

    def register(self, spec: LedgerSpec) -> LedgerSpec:
        if spec.key in self._specs and self._specs[spec.key] != spec:
            raise ValueError(f"台账 {spec.key} 已由另一个应用登记")
        self._specs[spec.key] = spec
        return spec

    def unregister(self, key: str) -> None:
        self._specs.pop(key, None)

    def __getitem__(self, key: str) -> LedgerSpec:
        return self._specs[key]

    def __iter__(self):
        return iter(k for k, _s in sorted(self._specs.items(), key=lambda kv: (kv[1].order, kv[0])))

    def __len__(self) -> int:
        return len(self._specs)

    def titles(self) -> list[tuple[str, str]]:
        return [(key, self._specs[key].title) for key in self]

    # -- the 街办 a user may narrow a download to -------------------------------------------------------------
    def register_streets(self, streets: Callable[[Any], list[tuple[str, str]]]) -> None:
        self._streets = streets

    def streets(self, user) -> list[tuple[str, str]]:
        """(code, name) of every 街办 ``user`` may see, by code."""
        if self._streets is None:
            raise RuntimeError("没有登记街道办事处的范围（communities/ledgers.py）")
        return self._streets(user)


registry = Registry()


@dataclass(frozen=True)
class WorkbookSpec:
    """A many-sheet workbook (the compliance workbook): ``write(book, *, user, as_of, progress)`` fills an
    ``XlsxBook``; ``count(user, as_of)`` is the rows it will write; ``filename(as_of)`` its download name."""

    key: str
    title: str
    write: Callable[..., Any]
    count: Callable[[Any, Any], int]
    filename: Callable[[Any], str]


workbooks: dict[str, WorkbookSpec] = {}


def register_workbook(spec: WorkbookSpec) -> WorkbookSpec:
    workbooks[spec.key] = spec
    return spec


def register(key: str, title: str, *, order: int = 100, may_reveal: Callable[[Any], bool] | None = None,
             record_reveal: Callable[..., None] | None = None) -> Callable[[Callable[..., Ledger]], Callable[..., Ledger]]:
    """Decorator for a ledger builder: ``@register("people", "人员台账", order=30)``."""

    def wrap(build: Callable[..., Ledger]) -> Callable[..., Ledger]:
        registry.register(LedgerSpec(key, title, build, order, may_reveal, record_reveal))
        return build

    return wrap


class _Titles(Mapping[str, str]):
    """key → title of the registered ledgers, read when used (the registry fills at start-up)."""

    def __getitem__(self, key: str) -> str:
        return registry[key].title

    def __iter__(self):
        return iter(registry)

    def __len__(self) -> int:
        return len(registry)


LEDGERS: Mapping[str, str] = _Titles()


def labels(choices) -> dict:
    """value → Chinese label of a model's choices: ledgers show 使用中, not in_use."""
    return {value: str(label) for value, label in choices.choices}
