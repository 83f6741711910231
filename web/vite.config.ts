/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// The build is committed inside the Python package (routes/web_app/build) and CI rebuilds it
// from the lockfile and compares: keep the output free of timestamps and absolute paths.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: here("../routes/web_app/build"),
    emptyOutDir: true,
    // The server's own /assets/ route serves data row assets: bundles go under /static/.
    assetsDir: "static",
    sourcemap: false,
    chunkSizeWarningLimit: 6000,
    rolldownOptions: {
      input: { index: here("index.html"), graphiql: here("graphiql.html") },
    },
  },
  worker: { format: "es" },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
