"""Save and load: mtd objects to and from plain data, JSON files and ``.npz`` files.

An object's **plain data** (``obj.to_dict()``) holds only dicts, lists, strings,
ints, floats, booleans and ``None``, so it can be passed to :func:`json.dumps`.  Arrays
are written as ``{"__array__": dtype, "shape": [...], "data": [...]}`` with the entries
flattened in C order; ``dtype`` is a numpy dtype name (``"int64"``, ``"float64"``, …) or
``"int"`` for an object array of Python ints of any size (the exact tensors of
``arithmetic="exact"``).  Floats round-trip exactly (Python writes the shortest repr
that reads back to the same double), and so do ints of any size (in a JSON file an int
of more than 4000 digits is written as ``{"__bigint__": hex}``, which is not subject to
Python's limit on decimal conversions).

A **file** (:func:`save`) holds a *document*: ``{"mtd_format": 1, "kind": <class name>,
"data": <plain data>}``.  ``.json`` files hold the document itself; ``.npz`` files hold
it as JSON in the entry ``__mtd__`` with every numeric array stored natively in its own
entry (read back with ``allow_pickle=False``: loading never runs code).  The format
version is checked on load; a newer or unknown version, or an unknown kind, is refused
with an error naming it.

Objects that can be saved: :class:`~mtd.ModeTree`, :class:`~mtd.HybridTree`,
:class:`~mtd.TreeDecomposition`, :class:`~mtd.MixedDecomposition`, the networks
(:class:`~mtd.DilatedConvNet`, :class:`~mtd.InterconnectedDilatedNets`,
:class:`~mtd.PoolingConvAC`, :class:`~mtd.OverlappingConvAC`), the results
(:class:`~mtd.GenericRank`, :class:`~mtd.theorems.CheckReport`,
:class:`~mtd.separation.SeparatingExample`, :class:`~mtd.separation.GapReport`), numpy
arrays, and lists of any of these.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np

from ._validation import _is_int
from .errors import InvalidArgumentError, InvalidArgumentTypeError, MTDError

__all__ = ["FORMAT_VERSION", "KINDS", "to_dict", "from_dict", "save", "load", "kind_of"]

FORMAT_VERSION = 1
"""The version written by :func:`save`; :func:`load` reads versions up to this one."""

_NUMERIC = {
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
}
_BIG_DIGITS = 4000


# ------------------------------------------------------------------------ plain values
def _array_to_data(a: np.ndarray) -> dict[str, Any]:
    if a.dtype == object:
        flat = a.ravel().tolist()
        if not all(_is_int(v) for v in flat):
            bad = next(v for v in flat if not _is_int(v))
            raise InvalidArgumentTypeError(
                f"object arrays can be saved when they hold ints only; got an entry {bad!r} of "
                f"type {type(bad).__name__}"
            )
        return {"__array__": "int", "shape": list(a.shape), "data": [int(v) for v in flat]}
    if a.dtype.name not in _NUMERIC:
        raise InvalidArgumentTypeError(
            f"arrays can be saved with dtypes {sorted(_NUMERIC)} or object (ints); got {a.dtype}"
        )
    return {"__array__": a.dtype.name, "shape": list(a.shape), "data": a.ravel().tolist()}


def _array_from_data(d: Mapping[str, Any]) -> np.ndarray:
    tag, shape, data = d["__array__"], tuple(int(s) for s in d["shape"]), d["data"]
    if not isinstance(data, list) or any(s < 0 for s in shape) or math.prod(shape) != len(data):
        raise InvalidArgumentError(
            f"a saved array of shape {shape} needs a list of {math.prod(shape)} entries; got "
            f"{len(data) if isinstance(data, list) else type(data).__name__}"
        )
    if tag == "int":
        out = np.empty(len(data), dtype=object)
        out[:] = [int(v["__bigint__"], 16) if isinstance(v, Mapping) else int(v) for v in data]
        return out.reshape(shape)
    if tag not in _NUMERIC:
        raise InvalidArgumentError(f"unknown array dtype {tag!r} in saved data")
    return np.asarray(data, dtype=tag).reshape(shape)


def _plain(x: Any) -> Any:
    """``x`` with every array replaced by its tagged dict (JSON-ready)."""
    if isinstance(x, np.ndarray):
        return _array_to_data(x)
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def _unplain(x: Any) -> Any:
    """The inverse of :func:`_plain`: tagged dicts back to arrays (arrays pass through)."""
    if isinstance(x, Mapping):
        if "__array__" in x:
            return _array_from_data(x)
        if "__bigint__" in x:
            return int(x["__bigint__"], 16)
        return {k: _unplain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_unplain(v) for v in x]
    return x


def _protect_bigints(x: Any) -> Any:
    if _is_int(x) and abs(int(x)).bit_length() > 3.3 * _BIG_DIGITS:
        return {"__bigint__": hex(int(x))}
    if isinstance(x, dict):
        if x.get("__array__", "int") != "int":
            return x  # a fixed-width dtype holds no big ints
        return {k: _protect_bigints(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_protect_bigints(v) for v in x]
    return x


# ------------------------------------------------------------- arrays and lists
def _enc_array(a: np.ndarray) -> dict[str, Any]:
    return {"array": a}


def _dec_array(d: Mapping[str, Any]) -> np.ndarray:
    out = d["array"]
    return out if isinstance(out, np.ndarray) else _array_from_data(out)


def _enc_list(items: Any) -> dict[str, Any]:
    return {"items": [_document(x) for x in items]}


def _dec_list(d: Mapping[str, Any]) -> list[Any]:
    return [from_dict(x) for x in d["items"]]


def _registry() -> dict[str, tuple[type, Callable[[Any], Any], Callable[[Any], Any]]]:
    from . import _codecs as c
    from .certify import GenericRank
    from .decompositions import MixedDecomposition, TreeDecomposition
    from .hybrids import HybridTree
    from .networks import (
        DilatedConvNet,
        InterconnectedDilatedNets,
        OverlappingConvAC,
        PoolingConvAC,
        RecurrentAC,
    )
    from .separation import GapReport, SeparatingExample
    from .theorems import CheckReport
    from .trees import ModeTree

    return {
        "ModeTree": (ModeTree, c.enc_mode_tree, c.dec_mode_tree),
        "HybridTree": (HybridTree, c.enc_hybrid, c.dec_hybrid),
        "TreeDecomposition": (
            TreeDecomposition,
            c.enc_tree_decomposition,
            c.dec_tree_decomposition,
        ),
        "MixedDecomposition": (
            MixedDecomposition,
            c.enc_mixed_decomposition,
            c.dec_mixed_decomposition,
        ),
        "DilatedConvNet": (DilatedConvNet, c.enc_dilated, c.dec_dilated),
        "InterconnectedDilatedNets": (
            InterconnectedDilatedNets,
            c.enc_interconnected,
            c.dec_interconnected,
        ),
        "PoolingConvAC": (PoolingConvAC, c.enc_pooling, c.dec_pooling),
        "OverlappingConvAC": (OverlappingConvAC, c.enc_overlapping, c.dec_overlapping),
        "RecurrentAC": (RecurrentAC, c.enc_recurrent, c.dec_recurrent),
        "GenericRank": (GenericRank, c.via_to_dict, c.dec_generic_rank),
        "CheckReport": (CheckReport, c.via_to_dict, c.dec_check_report),
        "SeparatingExample": (SeparatingExample, c.enc_separating, c.dec_separating),
        "GapReport": (GapReport, c.via_to_dict, c.dec_gap),
        "ndarray": (np.ndarray, _enc_array, _dec_array),
        "list": (list, _enc_list, _dec_list),
    }


KINDS = (
    "ModeTree",
    "HybridTree",
    "TreeDecomposition",
    "MixedDecomposition",
    "DilatedConvNet",
    "InterconnectedDilatedNets",
    "PoolingConvAC",
    "OverlappingConvAC",
    "RecurrentAC",
    "GenericRank",
    "CheckReport",
    "SeparatingExample",
    "GapReport",
    "ndarray",
    "list",
)
"""The kinds of object a document can hold (``"list"``: a list of documents)."""


def kind_of(obj: Any) -> str:
    """The document kind of ``obj``; raises naming the kinds that can be saved.

    Examples
    --------
    >>> from mtd.io import kind_of
    >>> kind_of(mtd.ModeTree.baseline(2))
    'ModeTree'
    """
    if isinstance(obj, tuple):
        return "list"
    for name, (cls, _, _) in _registry().items():
        if type(obj) is cls:
            return name
    raise InvalidArgumentTypeError(
        f"obj must be one of the kinds mtd can save ({', '.join(KINDS)}); got {type(obj).__name__}"
    )


# --------------------------------------------------------------------------- the API
def to_dict(obj: Any) -> dict[str, Any]:
    """An mtd object's plain data: JSON-ready dicts, lists, strings and numbers.

    This is what ``obj.to_dict()`` returns for the classes listed in the module
    docstring (GenericRank, CheckReport and GapReport keep their own, older keys).
    Use :func:`from_dict` (or ``Class.from_dict``) to rebuild the object.

    Parameters
    ----------
    obj : a saveable mtd object (see :data:`KINDS`)

    Returns
    -------
    dict

    Examples
    --------
    >>> d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=2, r=2,
    ...                                  kind="integer", seed=0)
    >>> data = mtd.io.to_dict(d)
    >>> data["form"], data["discretizers"]
    ('eq3', {'__array__': 'int64', 'shape': [2, 2], 'data': [1, 0, 0, 1]})
    """
    kind = kind_of(obj)
    return _plain(_registry()[kind][1](obj))


def _document(obj: Any) -> dict[str, Any]:
    kind = kind_of(obj)
    return {"mtd_format": FORMAT_VERSION, "kind": kind, "data": _registry()[kind][1](obj)}


def from_dict(data: Mapping[str, Any], *, kind: str | None = None) -> Any:
    """Rebuild an object from its plain data, or from a saved document.

    Parameters
    ----------
    data : dict
        A document ``{"mtd_format", "kind", "data"}`` (as in a saved file), or the
        plain data of ``kind`` (arrays as tagged dicts or as numpy arrays).
    kind : str, optional
        Required for plain data; checked against the document's kind otherwise.

    Returns
    -------
    The object (its class's constructor validates it again).

    Raises
    ------
    InvalidArgumentError
        On an unknown ``kind`` or format version, a kind that differs from the
        document's, or data missing a field.

    Examples
    --------
    >>> t = mtd.ModeTree.from_nested(((0, 2), (1, 3)))
    >>> mtd.io.from_dict(t.to_dict(), kind="ModeTree") == t
    True
    """
    if not isinstance(data, Mapping):
        raise InvalidArgumentTypeError(f"data must be a dict; got {type(data).__name__}")
    if "mtd_format" in data:
        version = data["mtd_format"]
        if not _is_int(version) or not 1 <= int(version) <= FORMAT_VERSION:
            raise InvalidArgumentError(
                f"unknown mtd file format version {version!r}: this mtd reads versions 1.."
                f"{FORMAT_VERSION}; upgrade mtd to read newer files"
            )
        found = data.get("kind")
        if kind is not None and found != kind:
            raise InvalidArgumentError(f"expected a saved {kind}; the document holds {found!r}")
        kind, body = found, data.get("data")
    elif kind is None:
        raise InvalidArgumentError(
            "data is not a saved document (no 'mtd_format' key); pass kind= for plain data"
        )
    else:
        body = data
    if kind not in KINDS:
        raise InvalidArgumentError(f"unknown kind {kind!r}; mtd can load {', '.join(KINDS)}")
    if not isinstance(body, Mapping):
        raise InvalidArgumentError(f"the data of a saved {kind} must be a dict; got {body!r}")
    try:
        return _registry()[kind][2](_unplain(body))
    except MTDError:
        raise
    except KeyError as exc:
        raise InvalidArgumentError(f"saved {kind} is missing the field {exc}") from None
    except (TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        raise InvalidArgumentError(f"saved {kind} is malformed: {exc}") from exc


def _format(path: Any, fmt: str | None) -> str:
    fmt = fmt or os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
    if fmt not in ("json", "npz"):
        raise InvalidArgumentError(
            f"path must end in .json or .npz (or pass format='json' / 'npz'); got {path!r}"
        )
    return fmt


def save(
    obj: Any, path: str | os.PathLike[str], *, format: Literal["json", "npz"] | None = None
) -> None:
    """Save an mtd object to a ``.json`` or ``.npz`` file (module docstring).

    Parameters
    ----------
    obj : a saveable mtd object, a numpy array, or a list of them
    path : str or path-like
    format : {"json", "npz"}, optional
        Default: from the suffix of ``path``.

    Raises
    ------
    InvalidArgumentTypeError
        If ``obj`` is not something mtd can save.
    InvalidArgumentError
        On a path with another suffix and no ``format``.

    Examples
    --------
    >>> import os, tempfile
    >>> net = mtd.DilatedConvNet([1, 2], (2, 3, 1), kind="integer", seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> mtd.save(net, path)
    >>> back, V = mtd.load(path), np.eye(2, dtype=int)
    >>> bool((back.grid_tensor(V) == net.grid_tensor(V)).all())
    True
    """
    fmt = _format(path, format)
    doc = _document(obj)
    if fmt == "json":
        text = json.dumps(_protect_bigints(_plain(doc)))
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    arrays: dict[str, np.ndarray] = {}

    def pull(x: Any) -> Any:
        if isinstance(x, np.ndarray) and x.dtype.name in _NUMERIC:
            name = f"a{len(arrays)}"
            arrays[name] = x
            return {"__npz__": name}
        if isinstance(x, Mapping):
            return {str(k): pull(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [pull(v) for v in x]
        return x

    text = json.dumps(_protect_bigints(_plain(pull(doc))))
    with open(path, "wb") as out:
        np.savez_compressed(out, __mtd__=np.array(text), **arrays)  # type: ignore[arg-type]


def load(path: str | os.PathLike[str], *, format: Literal["json", "npz"] | None = None) -> Any:
    """Load an object saved by :func:`save`.

    Parameters
    ----------
    path : str or path-like
    format : {"json", "npz"}, optional
        Default: from the suffix of ``path``.

    Returns
    -------
    The object, rebuilt through its class's validating constructor.

    Raises
    ------
    InvalidArgumentError
        If the file is not an mtd document, has an unknown format version or kind, or
        is malformed.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "tree.json")
    >>> mtd.save(mtd.ModeTree.swapped(3, 2), path)
    >>> mtd.load(path) == mtd.ModeTree.swapped(3, 2)
    True
    """
    fmt = _format(path, format)
    try:
        if fmt == "json":
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
        else:
            with np.load(path, allow_pickle=False) as z:
                if "__mtd__" not in z.files:
                    raise InvalidArgumentError(f"{path!r} is not an mtd .npz file (no __mtd__)")
                arrays = {k: z[k] for k in z.files if k != "__mtd__"}
                doc = json.loads(str(z["__mtd__"]))

            def push(x: Any) -> Any:
                if isinstance(x, dict):
                    if "__npz__" in x:
                        return arrays[x["__npz__"]]
                    return {k: push(v) for k, v in x.items()}
                if isinstance(x, list):
                    return [push(v) for v in x]
                return x

            doc = push(doc)
    except (json.JSONDecodeError, ValueError, KeyError, OSError) as exc:
        if isinstance(exc, (InvalidArgumentError, FileNotFoundError)):
            raise
        raise InvalidArgumentError(f"cannot read {path!r} as an mtd {fmt} file: {exc}") from exc
    if not isinstance(doc, dict) or "mtd_format" not in doc:
        raise InvalidArgumentError(f"{path!r} is not an mtd file (no 'mtd_format' key)")
    return from_dict(doc)
