import { describe, expect, it } from "vitest";
import { parseCommand, UsageError } from "../../src/cli/parse.js";

describe("parseCommand", () => {
  it("shows help with no arguments, help, --help or -h", () => {
    for (const argv of [[], ["help"], ["--help"], ["-h"]])
      expect(parseCommand(argv)).toEqual({ name: "help" });
  });
  it("prints the version with version, --version or -v", () => {
    for (const argv of [["version"], ["--version"], ["-v"]])
      expect(parseCommand(argv)).toEqual({ name: "version" });
  });
  it("rejects an unknown command by name", () => {
    expect(() => parseCommand(["bogus"])).toThrow(new UsageError('unknown command "bogus"'));
  });
  it("rejects an unknown option by name", () => {
    expect(() => parseCommand(["--bogus"])).toThrow(new UsageError("unknown option --bogus"));
  });
});
