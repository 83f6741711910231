"""Python client of a ModelLedger server.

    from modelledger_client import Client
    client = Client()                      # MODELLEDGER_URL, MODELLEDGER_API_KEY
    dataset = client.create_dataset("street-scenes")
    dataset.upsert_data_rows("rows.ndjson")
"""

from modelledger_client.client import Client
from modelledger_client.dataset import Dataset
from modelledger_client.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    LineError,
    MetricsFailedError,
    MetricsTimeoutError,
    ModelLedgerError,
    NetworkError,
    NotFoundError,
    ValidationError,
)
from modelledger_client.model import Model
from modelledger_client.run import ModelRun, ObjectOutcome, RowCustomMetric, RowOutcomes
from modelledger_client.tables import (
    AssetFile,
    ConfusionCell,
    ConfusionMatrix,
    CustomMetric,
    DataRow,
    EmbeddingSpace,
    Feature,
    FeatureMetrics,
    MacroMetrics,
    MetricsStatus,
    Projection,
    PrPoint,
    RowMetrics,
    RunDiff,
    RunEvent,
    RunMetrics,
    SplitChange,
    Table,
    UploadResult,
)
from modelledger_client.transport import RetryPolicy
from modelledger_client.uploads import ChunkSize

__all__ = [
    "AssetFile",
    "AuthenticationError",
    "ChunkSize",
    "Client",
    "ConfusionCell",
    "ConfusionMatrix",
    "ConflictError",
    "CustomMetric",
    "DataRow",
    "Dataset",
    "EmbeddingSpace",
    "Feature",
    "FeatureMetrics",
    "ForbiddenError",
    "LineError",
    "MacroMetrics",
    "MetricsFailedError",
    "MetricsStatus",
    "MetricsTimeoutError",
    "Model",
    "ModelLedgerError",
    "ModelRun",
    "NetworkError",
    "NotFoundError",
    "ObjectOutcome",
    "PrPoint",
    "Projection",
    "RetryPolicy",
    "RowCustomMetric",
    "RowMetrics",
    "RowOutcomes",
    "RunDiff",
    "RunEvent",
    "RunMetrics",
    "SplitChange",
    "Table",
    "UploadResult",
    "ValidationError",
]
