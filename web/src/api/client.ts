// The GraphQL client: HTTP for queries and mutations, graphql-transport-ws for subscriptions,
// both carrying the API key (docs/graphql.md).
import { Client, fetchExchange, subscriptionExchange } from "@urql/core";
import { createClient as createWsClient } from "graphql-ws";
import { authorization } from "../lib/auth";

export function makeClient(key: string): { client: Client; close: () => void } {
  const ws = createWsClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    connectionParams: { authorization: authorization(key) },
    lazy: true,
    retryAttempts: 10,
  });
  const client = new Client({
    url: "/graphql",
    // No document cache: every view asks the server, which answers from its read models.
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
    fetchOptions: () => ({ headers: { Authorization: authorization(key) } }),
    requestPolicy: "network-only",
  });
  return { client, close: () => void ws.dispose() };
}

export interface ViewerInfo {
  name: string;
  readOnly: boolean;
}

/** Checks a key before it is stored: null for a key the server refuses. */
export async function checkKey(key: string): Promise<ViewerInfo | null> {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: authorization(key) },
    body: JSON.stringify({ query: "{ viewer { name readOnly } }" }),
  });
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  const answer = await response.json();
  if (answer.errors?.length) throw new Error(answer.errors[0].message);
  return answer.data.viewer as ViewerInfo;
}

/** The first message of a failed operation, for the user. */
export function errorText(error: { graphQLErrors?: { message: string }[]; networkError?: Error; message: string }): string {
  if (error.graphQLErrors?.length) return error.graphQLErrors.map((e) => e.message).join("; ");
  if (error.networkError) return `Network error: ${error.networkError.message}`;
  return error.message;
}
