// The history view's operations (schema.graphql: ModelRun.history, ModelRun.diff).
export interface RunEvent {
  version: number;
  type: string;
  actor: string;
  at: string;
  summary: unknown;
}

export interface RunDiff {
  fromVersion: number;
  toVersion: number;
  rowsAdded: string[];
  rowsRemoved: string[];
  splitsChanged: { globalKey: string; from: string; to: string }[];
  labelsChanged: string[];
  predictionsChanged: string[];
  configBefore: unknown;
  configAfter: unknown;
  metricSettingsBefore: unknown;
  metricSettingsAfter: unknown;
}

export const HISTORY = `query History($id: ID!, $first: Int, $after: String) {
  modelRun(id: $id) { id history(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { version type actor at summary } } }
}`;

export const DIFF = `query Diff($id: ID!, $from: Int!, $to: Int!) {
  modelRun(id: $id) {
    id diff(fromVersion: $from, toVersion: $to) {
      fromVersion toVersion rowsAdded rowsRemoved splitsChanged { globalKey from to } labelsChanged predictionsChanged
      configBefore configAfter metricSettingsBefore metricSettingsAfter
    }
  }
}`;
