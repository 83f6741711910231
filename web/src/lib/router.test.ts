import { describe, expect, it } from "vitest";
import { matchRoute } from "./router";

describe("addresses", () => {
  it("match the views of this step", () => {
    expect(matchRoute("/")).toEqual({ view: "directory" });
    expect(matchRoute("/models/m1")).toEqual({ view: "model", modelId: "m1" });
    expect(matchRoute("/runs/r1/gallery")).toEqual({ view: "gallery", runId: "r1" });
    expect(matchRoute("/runs/r1/gallery/")).toEqual({ view: "gallery", runId: "r1" });
    expect(matchRoute("/runs/r1/metrics")).toEqual({ view: "metrics", runId: "r1" });
    expect(matchRoute("/runs/r1/projector")).toEqual({ view: "projector", runId: "r1" });
    expect(matchRoute("/runs/r1/history")).toEqual({ view: "history", runId: "r1" });
    expect(matchRoute("/compare/r1/r2")).toEqual({ view: "compare", runA: "r1", runB: "r2" });
  });

  it("leave every other path to the page-not-found view", () => {
    for (const path of ["/nope", "/models", "/runs/r1", "/runs/r1/elsewhere", "/models/m1/extra"]) {
      expect(matchRoute(path)).toEqual({ view: "notFound" });
    }
  });
});
