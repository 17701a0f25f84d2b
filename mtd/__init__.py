"""mtd: mode trees, hierarchical and mixed tensor decompositions, and trustworthy ranks.

mtd implements the mathematics of expressive efficiency of convolutional
networks (Cohen, Tamari & Shashua, ICLR 2018, and companions): mode trees and
their tilings, matricizations, grid tensors, and matricization ranks computed
numerically, exactly over the rationals, or modulo a prime.

It needs numpy, scipy, python-flint and opt_einsum.  The optional packages (tensorly,
sympy, matplotlib, hypothesis) are imported lazily, only by the functions that need
them; a missing one raises :class:`MissingDependencyError` naming the extra to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import certify, decompositions, hybrid_witness, mincut, separation, witness
from ._config import get_memory_limit, memory_limit, set_memory_limit
from .bounds import theorem7_bounds, tree_mincut_bound, trivial_bound
from .certify import GenericRank, generic_rank
from .decompositions import (
    G_FUNCTIONS,
    HierarchicalTensor,
    MixedDecomposition,
    TreeDecomposition,
    contract_leaf_vectors,
    decomposition_to_tensor,
    embed_hybrid,
    from_tensorly_cp,
    from_tensorly_tt,
    grid_entries,
    hierarchical_svd,
    mixed_to_tensor,
    n_parameters,
    parameter_count,
    to_tensorly_cp,
    to_tensorly_tt,
    tree_rank_profile,
    tree_to_tensor,
)
from .errors import (
    AmbiguousRankWarning,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidIndexSetError,
    InvalidModeTreeError,
    MissingDependencyError,
    MTDError,
    TensorTooLargeError,
)
from .grid import grid_tensor
from .hybrids import FROM_T, FROM_T_BAR, HybridTree, common_interior, hybrid_tree, hybrid_trees
from .matricization import complement, matricization_shape, matricize, unmatricize
from .mincut import mincut_bound
from .ranks import (
    DEFAULT_PRIME,
    NumericRank,
    matricization_rank,
    matrix_rank,
    numeric_rank,
)
from .trees import ModeTree

if TYPE_CHECKING:
    from . import design, families, networks, sweeps, symmetry
    from .decompositions.fitting import FitResult, fit
    from .io import load, save
    from .networks import (
        DilatedConvNet,
        GCLayer,
        InterconnectedDilatedNets,
        OperationCount,
        OverlappingConvAC,
        PoolingConvAC,
        RecurrentAC,
        image_modes,
        image_partition,
        image_tree,
        pooling_tree,
    )
    from .profiles import RankProfile, rank_profile

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # trees
    "ModeTree",
    "HybridTree",
    "FROM_T",
    "FROM_T_BAR",
    "common_interior",
    "hybrid_tree",
    "hybrid_trees",
    # matricization
    "matricize",
    "unmatricize",
    "matricization_shape",
    "complement",
    # ranks
    "matricization_rank",
    "matrix_rank",
    "numeric_rank",
    "NumericRank",
    "DEFAULT_PRIME",
    # structural bounds
    "theorem7_bounds",
    "trivial_bound",
    "tree_mincut_bound",
    "mincut_bound",
    # certified generic ranks
    "generic_rank",
    "GenericRank",
    # rank profiles and design
    "rank_profile",
    "RankProfile",
    # decompositions
    "TreeDecomposition",
    "MixedDecomposition",
    "G_FUNCTIONS",
    "embed_hybrid",
    "tree_to_tensor",
    "mixed_to_tensor",
    "decomposition_to_tensor",
    "contract_leaf_vectors",
    "grid_entries",
    "hierarchical_svd",
    "HierarchicalTensor",
    "tree_rank_profile",
    "to_tensorly_cp",
    "from_tensorly_cp",
    "to_tensorly_tt",
    "from_tensorly_tt",
    "n_parameters",
    "parameter_count",
    # fitting
    "fit",
    "FitResult",
    # networks
    "DilatedConvNet",
    "InterconnectedDilatedNets",
    "PoolingConvAC",
    "OverlappingConvAC",
    "RecurrentAC",
    "GCLayer",
    "OperationCount",
    "pooling_tree",
    "image_tree",
    "image_modes",
    "image_partition",
    # grid tensors
    "grid_tensor",
    "get_memory_limit",
    "set_memory_limit",
    "memory_limit",
    # errors
    "MTDError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "InvalidModeTreeError",
    "InvalidIndexSetError",
    "TensorTooLargeError",
    "MissingDependencyError",
    "AmbiguousRankWarning",
    # save and load
    "save",
    "load",
    # submodules
    "certify",
    "decompositions",
    "display",
    "io",
    "design",
    "entanglement",
    "families",
    "mincut",
    "plot",
    "networks",
    "separation",
    "strategies",
    "sweeps",
    "symmetry",
    "experiments",
    "training",
    "datasets",
    "witness",
    "hybrid_witness",
]

_LAZY_SUBMODULES = {
    "strategies",
    "plot",
    "io",
    "display",
    "experiments",
    "training",
    "datasets",
    "entanglement",
    "networks",
    "design",
    "families",
    "profiles",
    "sweeps",
    "symmetry",
}
_LAZY_FUNCTIONS = {
    "save": "io",
    "load": "io",
    "rank_profile": "profiles",
    "RankProfile": "profiles",
    "FitResult": "decompositions.fitting",
    "fit": "decompositions.fitting",
    **{
        name: "networks"
        for name in (
            "DilatedConvNet",
            "GCLayer",
            "InterconnectedDilatedNets",
            "OperationCount",
            "OverlappingConvAC",
            "PoolingConvAC",
            "RecurrentAC",
            "image_modes",
            "image_partition",
            "image_tree",
            "pooling_tree",
        )
    },
}


def __getattr__(name: str) -> Any:
    # ``mtd.strategies`` needs hypothesis and ``mtd.plot`` matplotlib, optional
    # dependencies: import on first use.  The networks, rank profiles, design tools,
    # save/load and display are mtd's own but not needed by most imports: loading them
    # on first use keeps ``import mtd`` quick.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(f".{_LAZY_FUNCTIONS[name]}", __name__), name)
    raise AttributeError(f"module 'mtd' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
