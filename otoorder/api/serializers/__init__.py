"""Serializers of the REST API, one module per resource. Field names are a contract (issue #2);
rules are not made here but called: ``check_item`` for order items, ``validate_definition`` for
interface definitions, ``Supplier.clean`` for suppliers.

The views use the serializers by their names in this package (``serializers.OrderSerializer``).
"""

from .auth import TokenRequestSerializer
from .common import SupplierCandidateSerializer
from .customers import CustomerSerializer
from .interfaces import BackendSerializer, InterfaceDefinitionSerializer
from .master_data import BranchSerializer, CompanySerializer, SupplierFilterSerializer, SupplierSerializer
from .orders import (
    CancelSerializer,
    ConfirmSerializer,
    OrderCreateSerializer,
    OrderCreatedSerializer,
    OrderFilterSerializer,
    OrderListSerializer,
    OrderMessageCreateSerializer,
    OrderMessageSerializer,
    OrderSerializer,
)
from .scorecard import ScorecardQuerySerializer, ScorecardSerializer
from .transactions import (
    PreviewRequestSerializer,
    PreviewSerializer,
    TransactionSerializer,
    TransactionTemplateSerializer,
)

__all__ = [
    "BackendSerializer",
    "BranchSerializer",
    "CancelSerializer",
    "CompanySerializer",
    "ConfirmSerializer",
    "CustomerSerializer",
    "InterfaceDefinitionSerializer",
    "OrderCreateSerializer",
    "OrderCreatedSerializer",
    "OrderFilterSerializer",
    "OrderListSerializer",
    "OrderMessageCreateSerializer",
    "OrderMessageSerializer",
    "OrderSerializer",
    "PreviewRequestSerializer",
    "PreviewSerializer",
    "ScorecardQuerySerializer",
    "ScorecardSerializer",
    "SupplierCandidateSerializer",
    "SupplierFilterSerializer",
    "SupplierSerializer",
    "TokenRequestSerializer",
    "TransactionSerializer",
    "TransactionTemplateSerializer",
]
