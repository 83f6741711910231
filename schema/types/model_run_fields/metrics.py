"""The metrics' fields on ModelRun: status, figures, confusion matrix, curve, distributions
and histograms, each at a grid point and under an optional data row filter.

Every figure is read from the metrics read model (numpy over the run's results in memory),
off the event loop. Values off the run's grid, unknown features and filters on metrics while
the run is computing are refused with a message naming the value.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.filter_language import ConfusionClause
from domain.ontology import Ontology
from projections.metrics.distributions import distribution, histogram
from schema.context import Context
from schema.pagination import Connection, connection
from schema.types.confusion_matrix import ConfusionMatrix
from schema.types.filters import DataRowFilter, clauses_json, clauses_of
from schema.types.metric_charts import (
    DistributionEntry,
    MetricHistogram,
    MetricHistogramBin,
    PrPoint,
)
from schema.types.metric_data_row import MetricDataRow
from schema.types.metrics_status import MetricsStatus
from schema.types.model_run_fields import RunFieldGroup
from schema.types.run_metrics import RunMetrics

# The metrics read model's names of the two sides.
_STORED_SIDES = {"annotation": "ann", "prediction": "pred"}


@strawberry.type
class ModelRunMetricsFields(RunFieldGroup):
    @strawberry.field(description="IN_SYNC, COMPUTING (pending data rows) or FAILED (why).")
    async def metrics_status(self, info: Info[Context, None]) -> MetricsStatus:
        ctx = info.context
        return MetricsStatus.from_record(await ctx.read(ctx.read_models.metrics.status, self.run_at()))

    @strawberry.field(description="Per feature, all features (micro) and their mean (macro) at a grid point.")
    async def metrics(
        self, info: Info[Context, None], confidence: float, iou: float, filter: DataRowFilter | None = None  # noqa: A002
    ) -> RunMetrics:
        ctx = info.context
        record = await ctx.read(ctx.read_models.metrics.metrics, self.run_at(), confidence, iou, clauses_of(filter))
        return RunMetrics.from_record(record)

    @strawberry.field(description="Rows are ground truth, columns predictions; None last on both axes.")
    async def confusion_matrix(
        self, info: Info[Context, None], confidence: float, iou: float, filter: DataRowFilter | None = None  # noqa: A002
    ) -> ConfusionMatrix:
        ctx = info.context
        record = await ctx.read(ctx.read_models.metrics.confusion, self.run_at(), confidence, iou, clauses_of(filter))
        return ConfusionMatrix(
            labels=record.labels, counts=record.counts, data_rows=record.data_rows, record=record,
            selection=clauses_json(filter),
        )  # fmt: skip

    @strawberry.field(description="The data rows with an outcome in one confusion-matrix cell.")
    async def confusion_cell_data_rows(
        self,
        info: Info[Context, None],
        confidence: float,
        iou: float,
        ground_truth: str | None = None,
        prediction: str | None = None,
        filter: DataRowFilter | None = None,  # noqa: A002
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[MetricDataRow]:
        ctx = info.context
        clauses = [*clauses_of(filter), ConfusionClause(ground_truth, prediction)]
        size = ctx.page_size(first)
        page = await ctx.read(ctx.read_models.metrics.rows, self.run_at(), clauses, confidence, iou, size, after)
        return connection(page, MetricDataRow.from_record, after)

    @strawberry.field(description="(confidence, precision, recall) at every confidence threshold.")
    async def precision_recall_curve(
        self,
        info: Info[Context, None],
        iou: float,
        feature: str | None = None,
        filter: DataRowFilter | None = None,  # noqa: A002
    ) -> list[PrPoint]:
        ctx = info.context
        points = await ctx.read(ctx.read_models.metrics.pr_curve, self.run_at(), iou, feature, clauses_of(filter))
        return [PrPoint.from_record(p) for p in points]

    async def _parents(self, ctx: Context) -> dict[str, str | None]:
        """Each feature's parent feature (None at the top level), from the run's model."""
        record = await ctx.loaders.model_by_id.load(str(self.model_id))
        if record is None:
            return {}
        ontology = Ontology.from_dict(record.ontology)
        return {f.name: ontology.parent_of(f.name) for f in ontology.features}

    @strawberry.field(
        description="Annotations per feature, most first (100 per page by default): the top-level "
        "features, or with `under` the sub-features (nested answers) of that feature."
    )
    async def annotation_distribution(
        self,
        info: Info[Context, None],
        filter: DataRowFilter | None = None,  # noqa: A002
        first: int | None = None,
        after: str | None = None,
        under: str | None = None,
    ) -> Connection[DistributionEntry]:
        return await self._distribution(info.context, "annotation", filter, None, first, after, under)

    @strawberry.field(
        description="Predictions per feature (active at `confidence` if given), most first: the top-level "
        "features, or with `under` the sub-features of that feature."
    )
    async def prediction_distribution(
        self,
        info: Info[Context, None],
        confidence: float | None = None,
        filter: DataRowFilter | None = None,  # noqa: A002
        first: int | None = None,
        after: str | None = None,
        under: str | None = None,
    ) -> Connection[DistributionEntry]:
        return await self._distribution(info.context, "prediction", filter, confidence, first, after, under)

    async def _distribution(
        self,
        ctx: Context,
        side: str,
        filter: DataRowFilter | None,  # noqa: A002
        confidence: float | None,
        first: int | None,
        after: str | None,
        under: str | None,
    ) -> Connection[DistributionEntry]:
        """A page of one side's objects per feature ("annotation" or "prediction")."""
        size = ctx.page_size(first)
        parents = await self._parents(ctx)
        page = await ctx.read(
            distribution, ctx.read_models.metrics, self.run_at(), _STORED_SIDES[side], clauses_of(filter),
            confidence, size, after, parents, under,
        )  # fmt: skip
        return connection(page, lambda bar: DistributionEntry.from_record(bar, side, filter, confidence), after)

    @strawberry.field(description="Data rows per tenth of [0, 1] of a per-row metric (automatic or custom).")
    async def metric_histogram(
        self,
        info: Info[Context, None],
        metric: str,
        confidence: float,
        iou: float,
        feature: str | None = None,
        filter: DataRowFilter | None = None,  # noqa: A002
    ) -> MetricHistogram:
        ctx = info.context
        record = await ctx.read(
            histogram, ctx.read_models.metrics, self.run_at(), metric, confidence, iou, feature, clauses_of(filter)
        )
        return MetricHistogram(
            metric=record.metric,
            feature=record.feature,
            bins=[MetricHistogramBin.from_record(b, metric, feature, filter) for b in record.bins],
            nulls=record.nulls,
            outside=record.outside,
        )
