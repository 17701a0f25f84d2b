"""A read-only mapping that, unlike ``types.MappingProxyType``, pickles and deep-copies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

__all__ = ["FrozenMap"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """An immutable view of a private dict copy; equal to any mapping with the same items.

    Examples
    --------
    >>> from mtd._frozen import FrozenMap
    >>> import pickle
    >>> m = FrozenMap({"a": 1})
    >>> pickle.loads(pickle.dumps(m)) == {"a": 1}
    True
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[K, V] | None = None):
        self._data: dict[K, V] = dict(data or {})

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))
