"""Tree, mixed and hierarchical tensor decompositions, compiled to one evaluation engine.

* :class:`TreeDecomposition` — eq. 3 (product of sums), the COLT'16 sum-of-products
  form and dense transfer tensors, over any mode tree; any ``g``; tied or free weights.
* :class:`MixedDecomposition` — eq. 4, two trees interconnected at mixture nodes.
* :func:`embed_hybrid` — Claim 5, a hybrid of size ``h`` inside a mixed decomposition
  of size ``2h``.
* :func:`hierarchical_svd`, :class:`HierarchicalTensor`, :func:`tree_rank_profile` —
  hierarchical SVD of a given tensor along a tree, and its node ranks.
* :func:`fit` — fit a tree or mixed decomposition to a dense or partly observed
  tensor (alternating least squares or L-BFGS-B over reverse-mode gradients).
* TensorLy interop (:func:`to_tensorly_cp`, :func:`from_tensorly_cp`,
  :func:`to_tensorly_tt`, :func:`from_tensorly_tt`) and parameter counts.

Every decomposition compiles to a plan (:mod:`mtd.decompositions._plan`); dense float,
exact and modular tensors, leaf-vector contractions and grid entries are evaluated
from it (:mod:`mtd.decompositions.evaluate`).
"""

from typing import TYPE_CHECKING, Any

from ._arith import DEFAULT_PRIME as MODULAR_PRIME
from ._plan import G_FUNCTIONS, Plan
from .embed import embed_hybrid
from .evaluate import contract_leaf_vectors, decomposition_to_tensor, grid_entries
from .hierarchical import HierarchicalTensor, hierarchical_svd, tree_rank_profile
from .interop import from_tensorly_cp, from_tensorly_tt, to_tensorly_cp, to_tensorly_tt
from .mixed import MixedDecomposition, mixed_to_tensor
from .params import n_parameters, parameter_count
from .tree import TreeDecomposition, tree_to_tensor

if TYPE_CHECKING:
    from .fitting import FIT_METHODS, FitResult, fit

__all__ = [
    "FIT_METHODS",
    "G_FUNCTIONS",
    "FitResult",
    "MODULAR_PRIME",
    "HierarchicalTensor",
    "MixedDecomposition",
    "Plan",
    "TreeDecomposition",
    "contract_leaf_vectors",
    "decomposition_to_tensor",
    "embed_hybrid",
    "fit",
    "from_tensorly_cp",
    "from_tensorly_tt",
    "grid_entries",
    "hierarchical_svd",
    "mixed_to_tensor",
    "n_parameters",
    "parameter_count",
    "to_tensorly_cp",
    "to_tensorly_tt",
    "tree_rank_profile",
    "tree_to_tensor",
]


def __getattr__(name: str) -> Any:
    # fitting (and its reverse pass over the plan) loads on first use: import mtd stays quick
    if name in ("FIT_METHODS", "FitResult", "fit"):
        from . import fitting

        return getattr(fitting, name)
    raise AttributeError(f"module 'mtd.decompositions' has no attribute {name!r}")
