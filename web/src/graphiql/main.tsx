// GraphiQL at GET /graphql, built here so that it loads nothing from a CDN.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createRoot } from "react-dom/client";
import { authorization, storedKey } from "../lib/auth";

const key = storedKey();
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
const fetcher = createGraphiQLFetcher({
  url: "/graphql",
  subscriptionUrl: wsUrl,
  headers: key ? { Authorization: authorization(key) } : undefined,
  // The key the web app signed in with, if any; otherwise set it in the Headers tab.
  wsConnectionParams: key ? { authorization: authorization(key) } : undefined,
});
// Signed in: every request carries the key already. Otherwise it goes in the Headers tab.
const headers = key ? undefined : JSON.stringify({ Authorization: "Bearer <api key>" }, null, 2);

createRoot(document.getElementById("graphiql")!).render(
  <GraphiQL fetcher={fetcher} initialHeaders={headers} shouldPersistHeaders={false} />,
);
