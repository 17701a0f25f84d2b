"""Tree decompositions: the grid tensors of dilated networks (eq. 3) and their relatives.

For a mode tree ``T`` over ``N`` modes, discretizers ``V`` (``M × r_0``, row ``i`` is
``v⁽ⁱ⁾``) and weights, every node ``ν`` carries ``r_ν`` tensors ``φ^{ν,γ}`` over its
modes, **in ascending mode order** (σ in the paper):

* leaves: ``φ^{{j},γ} = (V L_jᵀ)[:, γ]`` — with no leaf weights ``L_j`` this is eq. 3's
  ``V[:, γ]``;
* ``form="eq3"`` (Cohen, Tamari & Shashua 2018, eq. 3): a *product of k sums*,
  ``φ^{ν,γ} = σ(⊗_g,c Σ_α W^ν_c[γ, α] φ^{c,α})``; the outputs are the root's tensors,
  ``A^y = φ^{root,y}``, with no dense layer after the root — so ``[[A^y]]_I`` has rank
  1 when ``I`` is a child of the root;
* ``form="colt"`` (Cohen, Sharir & Shashua 2016): a *sum of products*,
  ``φ^{ν,γ} = Σ_α a^ν[γ, α] σ(⊗_g,c φ^{c,α})``; the root's ``a`` is the dense output
  layer (on the star tree this is the CP decomposition);
* ``form="ht"``: dense transfer tensors, ``φ^{ν,γ} = Σ B^ν[γ, α_1…α_k] σ(⊗_c φ^{c,α_c})``
  (the hierarchical Tucker format, ``g`` = product).

``⊗_g`` is the generalized outer product ``(A ⊗_g B)[i, j] = g(A[i], B[j])``, folded over
``k`` children in order (see :data:`mtd.decompositions.G_FUNCTIONS`).  An optional
dense layer ``outputs`` (``n_out × r_root``) gives ``A^y = Σ_γ outputs[y, γ] φ^{root,γ}``.

Weight format
-------------
``weights`` maps every interior node (a frozenset, or any iterable of its modes) to

* ``"eq3"``: a sequence of ``k`` matrices, child ``i``'s of shape ``(r_ν, r_{c_i})``
  (or one ``(k, r_ν, r_c)`` array);
* ``"colt"``: one matrix ``(r_ν, r_c)`` (all children of ``ν`` have size ``r_c``);
* ``"ht"``: one array ``(r_ν, r_{c_1}, …, r_{c_k})``.

Sizes are read off the shapes: a leaf has ``r_0`` channels (the columns of ``V``) or
the rows of its leaf weights.  **Tied weights** (a stationary network): key by depth
(``int``, the root is depth 0) instead; one payload serves every interior node of
that depth.  ``leaf_weights``: ``None``, one ``(r_leaf, r_0)`` matrix for all leaves,
or a mapping ``mode -> matrix``.  Integer arrays are kept as ``int64`` and make exact
and modular evaluation possible; anything else is ``float64``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from .._rich import Rich
from .._typing import Seed
from .._validation import as_rng, check_int, check_max_weight
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..trees import ModeTree
from ._dense import dense_tensor
from ._plan import Plan, check_g, leaf_plan_from_tree
from ._random import (
    check_kind,
    gaussian_arrays,
    gc_paused,
    random_array,
    random_discretizers,
    size_function,
)
from ._weights import (
    check_discretizers,
    check_form,
    check_leaf_weights,
    check_outputs,
    resolve_weights,
)
from .evaluate import PlanEvaluators

__all__ = ["TreeDecomposition", "tree_to_tensor"]

Node = frozenset[int]


class TreeDecomposition(PlanEvaluators, Rich):
    """A tree decomposition (eq. 3, or the COLT / dense-transfer forms) of grid tensors.

    Parameters
    ----------
    tree : ModeTree
        The mode tree (children in order; modes 0-based).
    discretizers : (M, r_0) array_like
        Row ``i`` is the discretizer ``v⁽ⁱ⁾``; eq. 3's leaves are its columns.
    weights : mapping
        Interior node -> weights, or depth -> weights when tied (module docstring).
    g : {"product", "relu", "max", "relu_sum"}, default "product"
        The generalized product (see :data:`mtd.decompositions.G_FUNCTIONS`).
    form : {"eq3", "colt", "ht"}, default "eq3"
        Product of sums, sum of products, or dense transfer tensors (``"ht"``: product only).
    outputs : (n_outputs, r_root) array_like, optional
        A dense output layer after the root; ``None`` (eq. 3): ``A^y = φ^{root,y}``.
    leaf_weights : array_like or mapping, optional
        Per-leaf matrices ``(r_leaf, r_0)``: leaf ``j``'s channels are ``V L_jᵀ``.
    tied : bool, optional
        Whether ``weights`` is keyed by depth; default: inferred (all keys ints).

    Raises
    ------
    InvalidArgumentError
        On a missing node, a wrong shape (the message names the node, the child and the
        expected shape), an unknown ``g`` or ``form``, or ``form="ht"`` with ``g`` other
        than the product.

    See Also
    --------
    MixedDecomposition : eq. 4, two trees interconnected at mixture nodes.

    Examples
    --------
    >>> T = mtd.ModeTree.from_nested(((0, 1), (2, 3)))
    >>> V = np.eye(2, dtype=int)
    >>> W = np.array([[1, 1], [0, 1]])
    >>> weights = {n: [W, W] for n in T.interior_nodes}
    >>> d = mtd.decompositions.TreeDecomposition(T, V, weights)
    >>> d.to_tensor(arithmetic="exact")[1, 1, 1, 1]
    np.int64(4)
    >>> d.sizes[T.root], d.n_outputs
    (2, 2)
    """

    __slots__ = (
        "_tree",
        "_V",
        "_weights",
        "_sizes",
        "_tied",
        "_leaf",
        "_g",
        "_form",
        "_O",
        "_plan",
    )

    def __init__(
        self,
        tree: ModeTree,
        discretizers: Any,
        weights: Mapping[Any, Any],
        *,
        g: str = "product",
        form: str = "eq3",
        outputs: Any = None,
        leaf_weights: Any = None,
        tied: bool | None = None,
    ):
        if not isinstance(tree, ModeTree):
            raise InvalidArgumentTypeError(f"tree must be a ModeTree; got {type(tree).__name__}")
        self._g = check_g(g)
        self._form = check_form(form)
        if form == "ht" and g != "product":
            raise InvalidArgumentError(
                f"form 'ht' (dense transfer tensors) needs g = 'product'; got {g!r}"
            )
        self._tree = tree
        self._V = check_discretizers(discretizers)
        r_in = self._V.shape[1]
        self._leaf = check_leaf_weights(leaf_weights, tree.n_modes, r_in)
        leaf_sizes = {m: (r_in if w is None else w.shape[0]) for m, w in self._leaf.items()}
        self._weights, self._sizes, self._tied = resolve_weights(
            tree, weights, form=form, tied=tied, leaf_sizes=leaf_sizes
        )
        self._O = check_outputs(outputs, self._sizes[tree.root])
        self._plan = leaf_plan_from_tree(
            tree,
            {m: (self._V, self._leaf[m]) for m in range(tree.n_modes)},
            self._weights,
            kind=form,
            g=g,
            output_matrix=self._O,
            size_of=self._sizes.__getitem__,
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def random(
        cls,
        tree: ModeTree,
        *,
        M: int,
        r: Any,
        kind: str = "gaussian",
        g: str = "product",
        seed: Seed = None,
        tied: bool = False,
        form: str = "eq3",
        r_input: int | None = None,
        max_weight: int = 1000,
    ) -> TreeDecomposition:
        """A tree decomposition with random weights and discretizers.

        Parameters
        ----------
        tree : ModeTree
        M : int
            Number of discretizers (the dimension of every mode).
        r : int or mapping
            Node sizes: one int (every node, and the ``r`` outputs at the root), or a
            mapping from nodes and/or depths (ints) to sizes.
        kind : {"gaussian", "orthogonal", "integer"}, default "gaussian"
            See :mod:`mtd.decompositions._random`; ``"integer"`` weights lie in
            ``-max_weight..max_weight`` and its discretizers span ``R^r`` when ``M >= r``.
        g : str, default "product"
        seed : None, int or numpy.random.Generator
        tied : bool, default False
            One set of weights per depth (a stationary network).
        form : {"eq3", "colt", "ht"}, default "eq3"
            ``"colt"`` and ``"ht"`` also get random leaf weights.
        r_input : int, optional
            Columns of the discretizers (``r_0``); default ``r`` (required when ``r`` is
            a mapping).
        max_weight : int, default 1000
            Integer weights (``kind="integer"``) are uniform in
            ``-max_weight..max_weight``: wide enough that ranks are generic with high
            probability.  A matricization's rank falls below its generic value ``R``
            only where an ``R × R`` minor, a non-zero polynomial of degree ``D`` in the
            weights, vanishes: by Schwartz–Zippel with probability at most
            ``D / (2·max_weight + 1)``, where ``D ≤ R·(number of weight and discretizer
            entries multiplied into one entry)`` (``R·(2N - 1)`` for a binary tree with
            random discretizers) — a loose bound; ``k`` independent draws fail together
            with probability at most its ``k``-th power.  Tiny ranges such as ``2`` give
            non-generic ranks often.

        Returns
        -------
        TreeDecomposition

        Examples
        --------
        >>> d = mtd.decompositions.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=2, r=2,
        ...                                  kind="integer", seed=0)
        >>> d.discretizers.tolist(), d.to_tensor().shape
        ([[1, 0], [0, 1]], (2, 2, 2, 2, 2, 2, 2, 2))
        """
        if not isinstance(tree, ModeTree):
            raise InvalidArgumentTypeError(f"tree must be a ModeTree; got {type(tree).__name__}")
        M = check_int(M, "M", minimum=1)
        kind = check_kind(kind)
        form = check_form(form)
        check_g(g)
        max_weight = check_max_weight(max_weight)
        size = size_function(tree, r)
        if r_input is None:
            if isinstance(r, Mapping):
                raise InvalidArgumentError("r_input is required when r is a mapping")
            r_input = int(r)
        r_in = check_int(r_input, "r_input", minimum=1)
        uniform = None if isinstance(r, Mapping) else int(r)
        _check_random_sizes(tree, M, r_in, size, form=form, tied=tied, uniform=uniform)
        rng = as_rng(seed)
        V = random_discretizers(rng, M, r_in, kind, max_weight)
        leaf_weights: Any = None
        sizes: dict[Node, int] = {}
        for leaf in tree.leaves:
            sizes[leaf] = r_in
        if form != "eq3":

            def leaf_size(leaf: Node) -> int:
                try:
                    return int(size(leaf))
                except InvalidArgumentError:
                    return r_in

            if tied:
                s0 = leaf_size(tree.leaves[0])
                leaf_weights = random_array(rng, (s0, r_in), kind, max_weight)
                sizes.update({leaf: s0 for leaf in tree.leaves})
            else:
                leaf_weights = {}
                for leaf in tree.leaves:
                    sizes[leaf] = leaf_size(leaf)
                    (m,) = leaf
                    leaf_weights[m] = random_array(rng, (sizes[leaf], r_in), kind, max_weight)
        with gc_paused():  # 10^5 small acyclic objects for huge trees
            weights = _draw_weights(tree, sizes, size, rng, kind, max_weight, form, tied=tied)
            return cls(tree, V, weights, g=g, form=form, leaf_weights=leaf_weights, tied=tied)

    # --------------------------------------------------------------------- structure
    @property
    def tree(self) -> ModeTree:
        """The mode tree."""
        return self._tree

    @property
    def discretizers(self) -> np.ndarray:
        """The ``(M, r_0)`` discretizers (read-only)."""
        return self._V

    @property
    def weights(self) -> Mapping[Node, tuple[np.ndarray, ...]]:
        """Interior node -> its weight arrays (tied nodes share the same arrays)."""
        return MappingProxyType(self._weights)

    @property
    def leaf_weights(self) -> Mapping[int, np.ndarray | None]:
        """Mode -> leaf weights ``(r_leaf, r_0)``, or ``None`` (eq. 3's plain leaves)."""
        return MappingProxyType(self._leaf)

    @property
    def outputs(self) -> np.ndarray | None:
        """The dense output layer, or ``None``."""
        return self._O

    @property
    def sizes(self) -> Mapping[Node, int]:
        """Every node's number of channels ``r_ν`` (leaves included)."""
        return MappingProxyType(self._sizes)

    @property
    def r(self) -> int | None:
        """The common size of the interior nodes, or ``None`` if they differ."""
        vals = {v for n, v in self._sizes.items() if len(n) > 1}  # interior: >= 2 modes
        return vals.pop() if len(vals) == 1 else None

    @property
    def g(self) -> str:
        """The generalized product."""
        return self._g

    @property
    def form(self) -> str:
        """``"eq3"``, ``"colt"`` or ``"ht"``."""
        return self._form

    @property
    def tied(self) -> bool:
        """Whether the weights are tied per depth."""
        return self._tied

    @property
    def M(self) -> int:
        """The number of discretizers (every mode's dimension)."""
        return int(self._V.shape[0])

    @property
    def n_modes(self) -> int:
        """The number ``N`` of modes."""
        return self._tree.n_modes

    @property
    def n_outputs(self) -> int:
        """The number of outputs ``A^y``."""
        return self._plan.n_outputs

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape ``(M,) * N`` of one grid tensor."""
        return (self.M,) * self.n_modes

    @property
    def is_integer(self) -> bool:
        """Whether every weight and discretizer is an integer (exact arithmetic possible)."""
        return self._plan.is_integer()

    @property
    def plan(self) -> Plan:
        """The compiled plan every evaluator runs (:mod:`mtd.decompositions._plan`)."""
        return self._plan

    # ------------------------------------------------------------------- evaluation
    def to_tensor(
        self, output: int | None = 0, *, arithmetic: str = "float", prime: int | None = None
    ) -> np.ndarray:
        """The grid tensor ``A^output``; see :func:`tree_to_tensor`."""
        return tree_to_tensor(self, output, arithmetic=arithmetic, prime=prime)

    def __repr__(self) -> str:
        sizes = sorted({self._sizes[n] for n in self._tree.interior_nodes})
        size = str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}..{sizes[-1]}"
        extra = ", tied" if self._tied else ""
        return (
            f"<TreeDecomposition form={self._form!r} g={self._g!r} over {self.n_modes} modes, "
            f"M={self.M}, r={size}, {self.n_outputs} outputs{extra}>"
        )


def tree_to_tensor(
    decomposition: TreeDecomposition,
    output: int | None = 0,
    *,
    arithmetic: str = "float",
    prime: int | None = None,
) -> np.ndarray:
    """The grid tensor ``A^output`` of a tree decomposition, in ascending-mode layout.

    Computed bottom-up; the root's children's factors are multiplied straight into the
    output buffer by broadcasting, so the cost is about one pass writing ``M^N``
    entries for any tree (non-contiguous nodes included).  The size is checked
    against the memory limit before anything is allocated.

    Parameters
    ----------
    decomposition : TreeDecomposition
    output : int or None, default 0
        Which output ``y``; ``None`` returns all, stacked along a new first axis.
    arithmetic : {"float", "exact", "modular"}, default "float"
        ``"exact"`` and ``"modular"`` need integer weights (``kind="integer"``); see
        :mod:`mtd.decompositions.evaluate`.
    prime : int, optional
        The prime for ``"modular"`` (default ``2**31 - 1``).

    Returns
    -------
    ndarray of shape ``(M,) * N`` (``(n_outputs,) + (M,) * N`` for ``output=None``)

    Raises
    ------
    TensorTooLargeError
        If the result or an intermediate tensor is over the memory limit.
    InvalidArgumentError
        For an output out of range, or exact / modular arithmetic on float weights.

    Examples
    --------
    >>> d = mtd.decompositions.TreeDecomposition.random(mtd.ModeTree.swapped(2, 2), M=2, r=2,
    ...                                  kind="integer", seed=3)
    >>> A = mtd.decompositions.tree_to_tensor(d, arithmetic="exact")
    >>> mtd.matricization_rank(A, [0, 2], method="exact")  # a child of the root: rank 1
    1
    """
    if not isinstance(decomposition, TreeDecomposition):
        raise InvalidArgumentTypeError(
            f"decomposition must be a TreeDecomposition; got {type(decomposition).__name__}"
        )
    return dense_tensor(decomposition.plan, output, arithmetic=arithmetic, prime=prime)


def _draw_weights(
    tree: ModeTree,
    sizes: dict[Node, int],
    size: Any,
    rng: np.random.Generator,
    kind: str,
    max_weight: int,
    form: str,
    *,
    tied: bool,
) -> dict[Any, Any]:
    """The node weights of ``TreeDecomposition.random``, drawn children first.

    ``sizes`` holds the leaves' sizes and receives the nodes'; every array was checked
    against the memory limit beforehand.
    """
    children = tree._children  # one table, not a lookup per node
    shapes: dict[Any, list[tuple[int, ...]]] = {}
    for node in reversed(tree.nodes):
        kids = children.get(node)
        if kids is None:  # a leaf
            continue
        sizes[node] = size(node)
        key: Any = tree.depth(node) if tied else node
        if key in shapes:
            continue
        csz = [sizes[c] for c in kids]
        if form == "eq3":
            shapes[key] = [(sizes[node], c) for c in csz]
        elif form == "colt":
            shapes[key] = [(sizes[node], csz[0])]
        else:
            shapes[key] = [(sizes[node], *csz)]
    if kind == "gaussian":  # one draw for all (the same numbers as one per array)
        flat = gaussian_arrays(rng, [s for group in shapes.values() for s in group])
        arrays = iter(flat)
        drawn = {key: [next(arrays) for _ in group] for key, group in shapes.items()}
    else:
        drawn = {
            key: [random_array(rng, s, kind, max_weight, checked=True) for s in group]
            for key, group in shapes.items()
        }
    return {key: (got if form == "eq3" else got[0]) for key, got in drawn.items()}


def _check_random_sizes(
    tree: ModeTree,
    M: int,
    r_in: int,
    size: Any,
    *,
    form: str,
    tied: bool,
    uniform: int | None = None,
) -> None:
    # The size model of ``TreeDecomposition.random``: every array it will draw, summed
    # (with early exit) and refused over the memory limit before anything is drawn.
    from .._sizes import check_shapes, limit_of

    if uniform is not None and form == "eq3" and not tied:
        # one size r everywhere: an (r, r_in) matrix per leaf, (r, r) per other non-root
        # node, in closed form; over the limit, the walk below says where it passes it
        n_interior = int(np.count_nonzero(tree._nk))
        r = uniform
        total = M * r_in + tree.n_modes * r * r_in + (n_interior - 1) * r * r
        if total * 8 <= limit_of(None):
            return

    def leaf_size(leaf: Node) -> int:
        try:
            return int(size(leaf))
        except InvalidArgumentError:
            return r_in

    def shapes() -> Iterator[tuple[int, ...]]:
        yield (M, r_in)
        sizes: dict[Node, int] = {}
        if form != "eq3":
            for leaf in tree.leaves[: 1 if tied else None]:
                yield (leaf_size(leaf), r_in)
        seen: set[Any] = set()
        children = tree._children
        for node in reversed(tree.nodes):
            kids = children.get(node)
            if kids is None:  # a leaf
                sizes[node] = leaf_size(node) if form != "eq3" else r_in
                continue
            sizes[node] = int(size(node))
            key: Any = tree.depth(node) if tied else node
            if key in seen:
                continue
            seen.add(key)
            csz = [sizes[c] for c in kids]
            if form == "eq3":
                yield from ((sizes[node], c) for c in csz)
            elif form == "colt":
                yield (sizes[node], csz[0])
            else:
                yield (sizes[node], *csz)

    check_shapes(shapes(), 8, what="the random weights and discretizers")
