"""Networks whose grid tensors are the decompositions of :mod:`mtd.decompositions`.

* :class:`DilatedConvNet` — a dilated convolutional network with size-2 filters
  (Cohen, Tamari & Shashua 2018, eq. 3), stationary or with one weight pair per node.
* :class:`InterconnectedDilatedNets` — two dilated networks run side by side and
  interconnected after chosen hidden layers (eq. 4), outputs added.
* :class:`PoolingConvAC` — a convolutional arithmetic circuit with a pooling geometry
  given by a mode tree (COLT'16, ICLR'17), with helpers for 1-D and 2-D pooling
  windows; the shallow network (CP) is the star tree.
* :class:`OverlappingConvAC` — generalized-convolution layers with overlapping windows
  (Sharir & Shashua 2018), its grid tensor through copy tensors at the inputs, and its
  tensor-network description.
* :class:`RecurrentAC` — a recurrent arithmetic circuit (multiplicative integration,
  weights shared across time; stacked for depth >= 2).

Every network has ``forward``, ``grid_tensor`` (under the memory guard, ``max_bytes=``)
and parameter and operation counts; the first three convert to decompositions with
``to_decomposition()``.
"""

from ._common import OperationCount
from .copy_network import TensorNetwork, TNTensor, contract_network, tensor_network
from .dilated import DilatedConvNet
from .geometry import GEOMETRIES, image_modes, image_partition, image_tree, pooling_tree
from .mixed import InterconnectedDilatedNets, interconnectable_layers
from .overlapping import GCLayer, OverlappingConvAC
from .pooling import PoolingConvAC
from .recurrent import RecurrentAC

__all__ = [
    "DilatedConvNet",
    "InterconnectedDilatedNets",
    "interconnectable_layers",
    "OperationCount",
    "OverlappingConvAC",
    "GCLayer",
    "TensorNetwork",
    "TNTensor",
    "contract_network",
    "tensor_network",
    "PoolingConvAC",
    "RecurrentAC",
    "GEOMETRIES",
    "image_modes",
    "image_partition",
    "image_tree",
    "pooling_tree",
]
