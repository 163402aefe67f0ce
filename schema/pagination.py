"""Relay cursor connections with a maximum page size.

Cursors are opaque (base64 of an offset); `first` above the configured maximum is a coded
BAD_USER_INPUT error naming the argument, never a silent truncation.
"""

from __future__ import annotations

import base64
from typing import Generic, Optional, Sequence, TypeVar

import strawberry

from resolvers.errors import CodedError

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 10


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: Optional[str]
    end_cursor: Optional[str]


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: Optional[int] = strawberry.field(description="Number of items in all pages, when cheap to know.")

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The offset after `cursor` (0 when none). A malformed cursor is the client's error."""
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(value)
    except (ValueError, UnicodeDecodeError):
        raise CodedError("`after` is not a valid cursor", field=["after"])
    if kind != "o" or offset < 0:
        raise CodedError("`after` is not a valid cursor", field=["after"])
    return offset + 1


def check_page_size(first: int | None, maximum: int, default: int = DEFAULT_PAGE_SIZE) -> int:
    if first is None:
        return min(default, maximum)
    if first < 0:
        raise CodedError("`first` must not be negative", field=["first"])
    if first > maximum:
        raise CodedError(f"`first` must be at most {maximum}", field=["first"], maximum=maximum)
    return first


def page_window(first: int | None, after: str | None, maximum: int) -> tuple[int, int]:
    """(offset, limit) for a query, from the connection arguments."""
    return decode_cursor(after), check_page_size(first, maximum)


def connection_from_page(items: Sequence[T], offset: int, limit: int, total: int | None,
                         has_more: bool | None = None) -> Connection[T]:
    """Build a connection from one already-fetched page. Pass `has_more` when `total` is unknown
    (fetch limit + 1 rows and say whether the extra one came back)."""
    page = list(items[:limit])
    edges = [Edge(cursor=encode_cursor(offset + i), node=node) for i, node in enumerate(page)]
    if has_more is None:
        has_more = total is not None and offset + len(page) < total
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_more, has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )


def connection_from_list(items: Sequence[T], first: int | None, after: str | None, maximum: int) -> Connection[T]:
    offset, limit = page_window(first, after, maximum)
    return connection_from_page(items[offset:offset + limit], offset, limit, len(items))
