import { useQuery } from "urql";
import { errorText } from "../api/client";
import { ErrorBox, ParamErrors } from "../components/ParamErrors";
import { type RunRow, RUN_FIELDS, RunsTable } from "../components/RunsTable";
import { when } from "../lib/format";
import { Link } from "../lib/router";
import { useViewParams } from "../lib/useViewParams";

const MODELS = `query Directory {
  models(first: 100) {
    totalCount
    nodes { id name createdAt ontology { features { name } } modelRuns(first: 100) { totalCount nodes { ${RUN_FIELDS} } } }
  }
}`;

interface ModelRow {
  id: string;
  name: string;
  createdAt: string;
  ontology: { features: { name: string }[] };
  modelRuns: { totalCount: number; nodes: RunRow[] };
}

export function Directory() {
  const { errors } = useViewParams();
  const [{ data, fetching, error }, refetch] = useQuery<{ models: { totalCount: number; nodes: ModelRow[] } }>({ query: MODELS });
  return (
    <div className="page">
      <ParamErrors errors={errors} />
      <div className="page-head">
        <h1>Models</h1>
        {data && <span className="muted">{data.models.totalCount} {data.models.totalCount === 1 ? "model" : "models"}</span>}
      </div>
      {error && <ErrorBox message={errorText(error)} />}
      {fetching && !data && <div className="loading">Loading models…</div>}
      {data && !data.models.nodes.length && (
        <div className="empty-state">
          <p>No models yet. Create one over GraphQL (<code>createModel</code>) or with <code>modelledger demo</code>.</p>
        </div>
      )}
      {data?.models.nodes.map((model) => (
        <section key={model.id} className="panel" data-testid="model-section" data-model-id={model.id}>
          <div className="panel-head">
            <Link href={`/models/${model.id}`} className="panel-title">
              {model.name}
            </Link>
            <span className="muted small">
              {model.ontology.features.length} features · {model.modelRuns.totalCount} {model.modelRuns.totalCount === 1 ? "run" : "runs"} · created {when(model.createdAt)}
            </span>
          </div>
          <RunsTable runs={model.modelRuns.nodes} onChanged={() => refetch({ requestPolicy: "network-only" })} />
        </section>
      ))}
    </div>
  );
}
