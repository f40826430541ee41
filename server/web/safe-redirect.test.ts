// Where sign-in may send the browser: local paths only, whatever shape an off-site address is given in.
import { describe, expect, it } from "vitest";
import { safeLocalPath, safeRedirect } from "./safe-redirect";

describe("safeLocalPath", () => {
  it("keeps local paths with their query and fragment", () => {
    expect(safeLocalPath("/journal")).toBe("/journal");
    expect(safeLocalPath("/data?table=customers#x")).toBe("/data?table=customers#x");
    expect(safeLocalPath("/a/../settings")).toBe("/settings");
  });

  it.each([
    "//evil.example", "/.//evil.example", "/\\evil.example", "/\\/evil.example", "\\\\evil.example", "/%2F%2Fevil.example",
    "/%2f/evil.example", "/%5Cevil.example", "/%252F%252Fevil.example", "https://evil.example/", "evil.example", "javascript:alert(1)",
    "/\tevil", "/%09/evil.example", "", undefined, null,
  ])("refuses %s", (target) => {
    expect(safeLocalPath(target as string)).toBe("/");
  });
});

describe("safeRedirect (next-auth's callback)", () => {
  const baseUrl = "http://127.0.0.1:3000";
  it("keeps the console's own URLs and local paths, and sends anything else home", () => {
    expect(safeRedirect({ url: "/journal", baseUrl })).toBe("http://127.0.0.1:3000/journal");
    expect(safeRedirect({ url: "http://127.0.0.1:3000/login", baseUrl })).toBe("http://127.0.0.1:3000/login");
    expect(safeRedirect({ url: "http://127.0.0.1:3000//evil.example", baseUrl })).toBe("http://127.0.0.1:3000/");
    expect(safeRedirect({ url: "http://127.0.0.1:4000/", baseUrl })).toBe("http://127.0.0.1:3000/");
    expect(safeRedirect({ url: "/.//evil.example", baseUrl })).toBe("http://127.0.0.1:3000/");
    expect(safeRedirect({ url: "https://evil.example/", baseUrl })).toBe("http://127.0.0.1:3000/");
  });
});
