"""Validation of the explicit weight format shared by tree and mixed decompositions.

Arrays are stored as read-only copies, ``int64`` for integer input (exact arithmetic
possible) and ``float64`` otherwise.  Messages name the argument, the node (and
child) and the expected shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import _is_int
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..trees import ModeTree, format_node

__all__ = [
    "FORMS",
    "as_real_array",
    "check_discretizers",
    "check_form",
    "check_leaf_weights",
    "check_outputs",
    "resolve_weights",
]

FORMS = ("eq3", "colt", "ht")
"""Node forms: eq. 3's product of sums, COLT'16's sum of products, dense transfer tensors."""

Node = frozenset[int]


def check_form(form: Any) -> str:
    """Return ``form`` if valid, else raise listing the valid forms."""
    if not isinstance(form, str) or form not in FORMS:
        raise InvalidArgumentError(f"form must be one of {FORMS}; got {form!r}")
    return form


def as_real_array(x: Any, name: str) -> np.ndarray:
    """A read-only ``int64`` (integer input) or ``float64`` copy of ``x``."""
    if isinstance(x, (str, bytes)) or x is None:
        raise InvalidArgumentTypeError(f"{name} must be a numeric array; got {type(x).__name__}")
    try:
        arr = np.array(x)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentTypeError(f"{name} must be a numeric array; got {x!r}") from exc
    if arr.dtype == object:
        flat = arr.ravel().tolist()
        if all(_is_int(v) for v in flat):
            if any(abs(int(v)) > 2**63 - 1 for v in flat):
                raise InvalidArgumentError(f"{name} has integers too large for int64")
            arr = arr.astype(np.int64)
        else:
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidArgumentTypeError(
                    f"{name} must hold real numbers; got dtype object"
                ) from exc
    if arr.dtype.kind in "iu":
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "f":
        arr = arr.astype(np.float64)
    else:
        raise InvalidArgumentTypeError(
            f"{name} must hold real numbers (integer or float); got dtype {arr.dtype}"
        )
    if arr.dtype == np.float64 and not np.all(np.isfinite(arr)):
        raise InvalidArgumentError(f"{name} must be finite; got inf or nan")
    arr.setflags(write=False)
    return arr


def check_discretizers(discretizers: Any) -> np.ndarray:
    """The ``(M, r)`` discretizer matrix (row ``i`` is ``v⁽ⁱ⁾``)."""
    V = as_real_array(discretizers, "discretizers")
    if V.ndim != 2 or V.shape[0] == 0 or V.shape[1] == 0:
        raise InvalidArgumentError(
            f"discretizers must be a non-empty (M, r) matrix (row i is the discretizer v^(i)); "
            f"got shape {V.shape}"
        )
    return V


def check_leaf_weights(leaf_weights: Any, n_modes: int, r_in: int) -> dict[int, np.ndarray | None]:
    """Per-mode leaf weights ``(r_leaf, r_in)``: ``None``, one shared matrix, or a mapping."""
    out: dict[int, np.ndarray | None] = {m: None for m in range(n_modes)}
    if leaf_weights is None:
        return out
    if isinstance(leaf_weights, Mapping):
        items = list(leaf_weights.items())
        for key, _ in items:
            if not _is_int(key) or not 0 <= int(key) < n_modes:
                raise InvalidArgumentError(
                    f"leaf_weights keys must be modes 0..{n_modes - 1}; got {key!r}"
                )
    else:
        shared = as_real_array(leaf_weights, "leaf_weights")
        items = [(m, shared) for m in range(n_modes)]
    for key, raw in items:
        if raw is None:
            continue
        arr = (
            raw
            if isinstance(raw, np.ndarray) and not raw.flags.writeable
            else as_real_array(raw, f"leaf_weights[{int(key)}]")
        )
        if arr.ndim != 2 or arr.shape[1] != r_in or arr.shape[0] == 0:
            raise InvalidArgumentError(
                f"leaf_weights of leaf {int(key)} must have shape (r_leaf, {r_in}) ({r_in} = the "
                f"number of columns of discretizers); got {arr.shape}"
            )
        out[int(key)] = arr
    return out


def check_outputs(outputs: Any, r_root: int) -> np.ndarray | None:
    """The optional dense output layer ``(n_outputs, r_root)``."""
    if outputs is None:
        return None
    O = as_real_array(outputs, "outputs")
    if O.ndim != 2 or O.shape[1] != r_root or O.shape[0] == 0:
        raise InvalidArgumentError(
            f"outputs (the dense output layer) must have shape (n_outputs, {r_root}) ({r_root} = "
            f"the size of the root); got {O.shape}"
        )
    return O


def _convert_payload(raw: Any, form: str, where: str) -> tuple[np.ndarray, ...]:
    if form == "eq3":
        if isinstance(raw, np.ndarray) and raw.ndim == 3:
            mats: Sequence[Any] = list(raw)
        elif isinstance(raw, (list, tuple)):
            mats = raw
        else:
            raise InvalidArgumentTypeError(
                f"{where} must be a sequence of matrices, one (r_node, r_child) matrix per "
                f"child (form 'eq3'); got {type(raw).__name__}"
            )
        return tuple(as_real_array(m, f"{where}[{i}]") for i, m in enumerate(mats))
    return (as_real_array(raw, where),)


def _clean_arrays(raw: Any, form: str) -> tuple[np.ndarray, ...] | None:
    """:func:`_convert_payload` for the common case, without naming anything.

    Eq. 3 payloads given as a list or tuple of ``int64`` / finite ``float64`` arrays (and
    other forms' single such array) are copied read-only; anything else gives None, and
    the caller takes :func:`_convert_payload`'s path, whose errors name the payload.
    Names cost a :func:`format_node` per node, which dominates huge trees.
    """
    if form == "eq3":
        if not isinstance(raw, (list, tuple)):
            return None
        mats = raw
    else:
        mats = (raw,)
    out = []
    for m in mats:
        if type(m) is not np.ndarray or m.dtype not in _CLEAN:
            return None
        if m.dtype.kind == "f" and not np.isfinite(m).all():
            return None
        arr = m.copy()
        arr.setflags(write=False)
        out.append(arr)
    return tuple(out)


_CLEAN = (np.dtype(np.int64), np.dtype(np.float64))


def _eq3_size(arrays: tuple[np.ndarray, ...], csz: list[int]) -> int | None:
    """An eq. 3 node's size when its matrices fit its children (else None: see the checks)."""
    if len(arrays) != len(csz) or not arrays:
        return None
    r = arrays[0].shape[0]
    for w, c in zip(arrays, csz, strict=True):
        if w.ndim != 2 or w.shape[1] != c or w.shape[0] != r:
            return None
    return int(r) if r else None


def _check_payload(
    arrays: tuple[np.ndarray, ...],
    node: Node,
    kids: tuple[Node, ...],
    csz: list[int],
    form: str,
    where: str,
) -> int:
    """Check shapes against the children's sizes; return the node's size."""

    def child(i: int) -> str:
        what = (
            " (a leaf: the number of columns of discretizers, or of its leaf weights)"
            if len(kids[i]) == 1
            else ""
        )
        return f"{csz[i]} = the size of child {i} {format_node(kids[i])}{what}"

    k = len(kids)
    if form == "eq3":
        if len(arrays) != k:
            raise InvalidArgumentError(
                f"{where} must hold one matrix per child: node {format_node(node)} has {k} "
                f"children; got {len(arrays)} matrices"
            )
        r = None
        for i, w in enumerate(arrays):
            if w.ndim != 2 or w.shape[1] != csz[i] or w.shape[0] == 0:
                raise InvalidArgumentError(
                    f"{where}[{i}] (node {format_node(node)}, child {i}) must have shape "
                    f"(r_node, {csz[i]}), {child(i)}; got {w.shape}"
                )
            if r is not None and w.shape[0] != r:
                raise InvalidArgumentError(
                    f"{where}: every child's matrix of node {format_node(node)} must have the "
                    f"same number of rows (the node's size); got {r} and {w.shape[0]}"
                )
            r = w.shape[0]
        assert r is not None
        return int(r)
    (w,) = arrays
    if form == "colt":
        if len(set(csz)) != 1:
            raise InvalidArgumentError(
                f"{where}: in form 'colt' every child of node {format_node(node)} must have the "
                f"same size (their channels are multiplied pairwise); got sizes {csz}"
            )
        if w.ndim != 2 or w.shape[1] != csz[0] or w.shape[0] == 0:
            raise InvalidArgumentError(
                f"{where} (node {format_node(node)}, form 'colt') must have shape "
                f"(r_node, {csz[0]}), {child(0)}; got {w.shape}"
            )
        return int(w.shape[0])
    if w.ndim != k + 1 or list(w.shape[1:]) != csz or w.shape[0] == 0:
        raise InvalidArgumentError(
            f"{where} (node {format_node(node)}, form 'ht') must be a transfer tensor of shape "
            f"(r_node, {', '.join(map(str, csz))}), the sizes of its {k} children; got {w.shape}"
        )
    return int(w.shape[0])


def resolve_weights(
    tree: ModeTree,
    weights: Any,
    *,
    form: str,
    tied: bool | None,
    leaf_sizes: Mapping[int, int],
    name: str = "weights",
) -> tuple[dict[Node, tuple[np.ndarray, ...]], dict[Node, int], bool]:
    """Per-node weight arrays, node sizes (leaves included) and whether weights are tied.

    ``weights`` maps interior nodes to payloads, or (tied) depths to one payload
    shared by every interior node of that depth.
    """
    if not isinstance(weights, Mapping):
        raise InvalidArgumentTypeError(
            f"{name} must be a mapping from interior nodes (or depths, when tied) to weights; "
            f"got {type(weights).__name__}"
        )
    keys = list(weights)
    int_keys = bool(keys) and all(_is_int(k) for k in keys)
    if tied is None:
        tied = int_keys
    if tied and keys and not int_keys:
        raise InvalidArgumentError(
            f"{name} with tied=True must be keyed by depth (ints); got key {keys[0]!r}"
        )
    interior = tree.interior_nodes
    children = tree._children  # interior node -> children, one table
    raw: dict[Node, tuple[np.ndarray, ...]] = {}
    if tied:
        depths = sorted({tree.depth(n) for n in interior})
        bad = [k for k in keys if int(k) not in depths]
        if bad:
            raise InvalidArgumentError(
                f"{name}: depth {bad[0]} has no interior node; tied weights need exactly the "
                f"depths {depths}"
            )
        converted = {}
        for d in depths:
            if d not in weights:
                raise InvalidArgumentError(f"{name} is missing the weights of depth {d}")
            converted[d] = _convert_payload(weights[d], form, f"{name}[depth {d}]")
        for n in interior:
            raw[n] = converted[tree.depth(n)]
    else:
        for key in keys:
            if _is_int(key):
                raise InvalidArgumentError(
                    f"{name} keys must be interior nodes (sets of modes); got int {key!r} (ints "
                    f"are depths, for tied=True)"
                )
            node = tree._node(key, f"{name} key")
            if node not in children:
                raise InvalidArgumentError(
                    f"{name} are given for interior nodes only; {format_node(node)} is a leaf "
                    f"(use leaf_weights)"
                )
            got = _clean_arrays(weights[key], form)
            if got is None:
                got = _convert_payload(weights[key], form, f"{name}[{format_node(node)}]")
            raw[node] = got
        missing = [n for n in interior if n not in raw]
        if missing:
            raise InvalidArgumentError(
                f"{name} is missing the weights of node {format_node(missing[0])} "
                f"({len(missing)} interior node(s) without weights)"
            )
    sizes: dict[Node, int] = {frozenset((m,)): int(s) for m, s in leaf_sizes.items()}
    for node in reversed(tree.nodes):
        if node not in raw:
            continue
        kids = children[node]
        csz = [sizes[c] for c in kids]
        got_size = _eq3_size(raw[node], csz) if form == "eq3" else None
        if got_size is None:  # the checks, with messages naming the payload
            where = f"{name}[depth {tree.depth(node)}]" if tied else f"{name}[{format_node(node)}]"
            got_size = _check_payload(raw[node], node, kids, csz, form, where)
        sizes[node] = got_size
    return raw, sizes, bool(tied)
