import { describe, expect, it } from "vitest";
import { assetSource } from "./asset";

describe("where an asset comes from", () => {
  it("loads http(s) and data: URLs directly", () => {
    expect(assetSource("https://cdn.example/a.jpg")).toEqual({ kind: "url", url: "https://cdn.example/a.jpg" });
    expect(assetSource("HTTP://x/a.png")).toEqual({ kind: "url", url: "HTTP://x/a.png" });
    expect(assetSource("data:image/png;base64,AAAA")?.kind).toBe("url");
  });

  it("fetches the server's /assets/ paths with the key", () => {
    expect(assetSource("/assets/ds1/images/a.jpg")).toEqual({ kind: "server", path: "/assets/ds1/images/a.jpg" });
  });

  it("takes anything else as the row's own text", () => {
    expect(assetSource("Alice met Bob in Paris.")).toEqual({ kind: "inline", text: "Alice met Bob in Paris." });
    expect(assetSource("")).toBeNull();
    expect(assetSource(null)).toBeNull();
  });
});
