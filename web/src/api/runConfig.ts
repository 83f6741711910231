// A model run's config (schema.graphql: ModelRun.config, configJson; updateModelRunConfig,
// resetModelRunConfig, copyModelRunConfig).
import type { RunConfig } from "../lib/config";

export interface RunConfigData {
  id: string;
  name: string;
  version: number;
  config: RunConfig;
  configJson: string;
  model: { id: string; modelRuns: { nodes: { id: string; name: string }[] } } | null;
}

export const RUN_CONFIG = `query RunConfig($id: ID!) {
  modelRun(id: $id) {
    id name version config configJson
    model { id modelRuns(first: 100) { nodes { id name } } }
  }
}`;

export const SOURCE_CONFIG = `query SourceRunConfig($id: ID!) {
  modelRun(id: $id) { id name config }
}`;

const ERRORS = "... on UserError { code message }";
const PAYLOAD = "modelRun { id version config configJson } version";

export const UPDATE_CONFIG = `mutation UpdateRunConfig($input: UpdateModelRunConfigInput!) {
  updateModelRunConfig(input: $input) { __typename ... on UpdateModelRunConfigPayload { ${PAYLOAD} } ${ERRORS} }
}`;

export const RESET_CONFIG = `mutation ResetRunConfig($input: ResetModelRunConfigInput!) {
  resetModelRunConfig(input: $input) { __typename ... on ResetModelRunConfigPayload { ${PAYLOAD} } ${ERRORS} }
}`;

export const COPY_CONFIG = `mutation CopyRunConfig($input: CopyModelRunConfigInput!) {
  copyModelRunConfig(input: $input) { __typename ... on CopyModelRunConfigPayload { ${PAYLOAD} } ${ERRORS} }
}`;
