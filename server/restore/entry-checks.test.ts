// The name and link rules on their own: what a restore accepts and what it refuses before writing anything.
import { describe, expect, it } from "vitest";
import { linkTargetProblem, nameProblem } from "./entry-checks";

describe("nameProblem", () => {
  it("accepts the names Strongbox writes", () => {
    for (const n of ["Project/a.4dm", "Data/data.sqlite", "Project/Empty/", "Attachments/srv/files/ü é.pdf", "Settings/..hidden"]) {
      expect(nameProblem(n, n.endsWith("/") ? "directory" : "file"), n).toBeNull();
    }
  });

  it("refuses names that could land anywhere but where they say", () => {
    expect(nameProblem("a//b", "file")).toMatch(/empty or "\." segment/);
    expect(nameProblem("./a", "file")).toMatch(/empty or "\." segment/);
    expect(nameProblem("a/./b", "file")).toMatch(/empty or "\." segment/);
    expect(nameProblem("a/b/", "file")).toMatch(/ends with \/ but is not a folder/);
    expect(nameProblem("a/../b/", "directory")).toMatch(/"\.\." segment/);
    expect(nameProblem("", "file")).toMatch(/empty name/);
    expect(nameProblem("c:evil", "file")).toMatch(/drive letter/);
  });
});

describe("linkTargetProblem", () => {
  const none = new Map<string, string>();
  it("accepts links that stay inside, however they get there", () => {
    expect(linkTargetProblem("Attachments/srv/files/l", "../../../Project/x", none)).toBeNull();
    expect(linkTargetProblem("a/l", "./b/../c", none)).toBeNull();
    const links = new Map([["a/up", ".."], ["b/l", "../a/up/Project"]]);
    expect(linkTargetProblem("b/l", "../a/up/Project", links)).toBeNull();
  });

  it("refuses links that climb out directly, through other links, or loop", () => {
    expect(linkTargetProblem("a/l", "../..", none)).toMatch(/outside/);
    expect(linkTargetProblem("l", "..", none)).toMatch(/outside/);
    const up = new Map([["a/up", ".."], ["b/l", "../a/up/../x"]]);
    expect(linkTargetProblem("b/l", "../a/up/../x", up)).toMatch(/outside/);
    const toAbsolute = new Map([["a/abs", "/etc"], ["b/l", "../a/abs/passwd"]]);
    expect(linkTargetProblem("b/l", "../a/abs/passwd", toAbsolute)).toMatch(/another link to an absolute path/);
    const loop = new Map([["x", "y"], ["y", "x"]]);
    expect(linkTargetProblem("z", "x/file", loop)).toMatch(/loops/);
  });
});
