"""Save, load and display methods shared by mtd's data classes (they delegate only).

A class that inherits :class:`Rich` gets ``to_dict()`` / ``from_dict()``
(:mod:`mtd.io`) and ``_repr_html_()`` (:mod:`mtd.display`); a class that defines its
own ``to_dict`` keeps it.  Nothing heavy is imported until a method is called.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Rich"]


class Rich:
    """Mixin: ``to_dict``, ``from_dict`` and ``_repr_html_``, delegating to module functions."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data that :meth:`from_dict` rebuilds the object from (mtd.io)."""
        from .io import to_dict

        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Any:
        """Rebuild an object from :meth:`to_dict`'s data or a saved document (mtd.io)."""
        from .io import from_dict

        return from_dict(data, kind=cls.__name__)

    def __repr__(self) -> str:
        from .display import short_repr

        return short_repr(self)

    def _repr_html_(self) -> str:
        from .display import html

        return html(self)
