import { useQuery } from "urql";
import { errorText } from "../api/client";
import { ErrorBox, ParamErrors } from "../components/ParamErrors";
import { type RunRow, RUN_FIELDS, RunsTable } from "../components/RunsTable";
import { describeClause, type DataRowFilter } from "../lib/filters";
import { when } from "../lib/format";
import { Link } from "../lib/router";
import { useViewParams } from "../lib/useViewParams";

const MODEL = `query ModelPage($id: ID!) {
  model(id: $id) {
    id name createdAt version
    ontology { features { id name kind question } }
    modelRuns(first: 100) { totalCount nodes { ${RUN_FIELDS} } }
    savedSlices { id name filter updatedAt }
  }
}`;

interface ModelData {
  id: string;
  name: string;
  createdAt: string;
  ontology: { features: { id: string; name: string; kind: string; question: string | null }[] };
  modelRuns: { totalCount: number; nodes: RunRow[] };
  savedSlices: { id: string; name: string; filter: DataRowFilter; updatedAt: string }[];
}

export function ModelPage({ modelId }: { modelId: string }) {
  const { errors } = useViewParams();
  const [{ data, fetching, error }, refetch] = useQuery<{ model: ModelData | null }>({ query: MODEL, variables: { id: modelId } });
  const model = data?.model;
  return (
    <div className="page">
      <ParamErrors errors={errors} />
      <nav className="crumbs">
        <Link href="/">Models</Link> <span>/</span> <span>{model?.name ?? modelId}</span>
      </nav>
      {error && <ErrorBox message={errorText(error)} />}
      {fetching && !data && <div className="loading">Loading the model…</div>}
      {data && !model && (
        <div className="empty-state" data-testid="not-found">
          <h1>Model not found</h1>
          <p className="muted">No model has the id {modelId}.</p>
        </div>
      )}
      {model && (
        <>
          <div className="page-head">
            <h1>{model.name}</h1>
            <span className="muted">created {when(model.createdAt)}</span>
          </div>
          <section className="panel">
            <div className="panel-head">
              <span className="panel-title">Runs</span>
              <span className="muted small">{model.modelRuns.totalCount}</span>
            </div>
            <RunsTable runs={model.modelRuns.nodes} onChanged={() => refetch({ requestPolicy: "network-only" })} />
          </section>
          <div className="two-columns">
            <section className="panel">
              <div className="panel-head">
                <span className="panel-title">Ontology</span>
                <span className="muted small">{model.ontology.features.length} features</span>
              </div>
              <table className="table">
                <thead>
                  <tr>
                    <th>Feature</th>
                    <th>Kind</th>
                  </tr>
                </thead>
                <tbody>
                  {model.ontology.features.map((f) => (
                    <tr key={f.id}>
                      <td>{f.name}</td>
                      <td className="muted">{f.kind.toLowerCase()}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
            <section className="panel">
              <div className="panel-head">
                <span className="panel-title">Saved slices</span>
                <span className="muted small">{model.savedSlices.length}</span>
              </div>
              {model.savedSlices.length ? (
                <table className="table">
                  <thead>
                    <tr>
                      <th>Slice</th>
                      <th>Filter</th>
                      <th>Changed</th>
                    </tr>
                  </thead>
                  <tbody>
                    {model.savedSlices.map((s) => (
                      <tr key={s.id}>
                        <td>{s.name}</td>
                        <td className="muted">{(s.filter.all ?? []).map((c) => describeClause(c)).join(" · ") || "all rows"}</td>
                        <td className="muted">{when(s.updatedAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p className="muted small">No saved slices. Save one from a run's gallery.</p>
              )}
            </section>
          </div>
        </>
      )}
    </div>
  );
}
