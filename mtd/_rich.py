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
        """Plain, JSON-ready data that :meth:`from_dict` rebuilds the object from (mtd.io).

        Examples
        --------
        >>> import json
        >>> net = mtd.DilatedConvNet([1, 2], (2, 3, 1), kind="integer", seed=0)
        >>> text = json.dumps(net.to_dict())
        >>> back = mtd.DilatedConvNet.from_dict(json.loads(text))
        >>> V = np.eye(2, dtype=int)
        >>> bool((back.grid_tensor(V) == net.grid_tensor(V)).all())
        True
        """
        from .io import to_dict

        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Any:
        """Rebuild an object from :meth:`to_dict`'s data or a saved document (mtd.io).

        Raises :class:`~mtd.InvalidArgumentError` when the data is malformed or is a
        document of another kind.

        Examples
        --------
        >>> from mtd.separation import gap_report
        >>> rep = gap_report(5, 4, 128)
        >>> type(rep).from_dict(rep.to_dict()) == rep
        True
        """
        from .io import from_dict

        return from_dict(data, kind=cls.__name__)

    def __repr__(self) -> str:
        from .display import short_repr

        return short_repr(self)

    def _repr_html_(self) -> str:
        from .display import html

        return html(self)
