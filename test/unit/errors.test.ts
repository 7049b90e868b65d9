import { inspect } from "node:util";
import { describe, expect, test } from "vitest";
import { ClientClosedError, InvalidOptionError } from "../../src/errors.js";
import { validateTarget } from "../../src/target.js";

// What an InvalidOptionError says about the value it rejects: enough to find
// the mistake, never what a user object holds (error texts end up in logs).

class RouteGuideService {
  dbUrl = "postgres://user:secret@db.internal:5432/routes";
  apiKey = "sk-live-0123456789abcdef";
}
const secretImplementation = {
  dbUrl: "postgres://user:secret@db.internal:5432/routes",
  apiKey: "sk-live-0123456789abcdef",
  getFeature: async () => ({}),
};
const long = `${"a".repeat(9_990)}.test:50051`;
const revoked = Proxy.revocable({}, {});
revoked.revoke();

/** [what, value, the message contains…, the message does not contain…] */
const ROWS: [string, unknown, string[], string[]][] = [
  ["a number", 1.5, ["got 1.5"], []],
  ["NaN", NaN, ["got NaN"], []],
  ["-Infinity", -Infinity, ["got -Infinity"], []],
  ["a bigint", 10n, ["got 10n"], []],
  ["undefined", undefined, ["got undefined"], []],
  ["null", null, ["got null"], []],
  ["a boolean", false, ["got false"], []],
  ["a short string, quoted", "random", ["got 'random'"], []],
  ["an empty string", "", ["got ''"], []],
  ["a string with a newline, escaped", "a\nb", ["got 'a\\nb'"], ["a\nb"]],
  ["a 10,000-character string: cut, with its length", long, ["got 'aaaa", "…' (10001 characters)"], ["a".repeat(61)]],
  ["a symbol", Symbol("token"), ["got a symbol token"], []],
  ["a named function", function sayHello() {}, ["got a function sayHello"], []],
  ["an async function", async function check() {}, ["got an async function check"], []],
  ["an anonymous function", (() => () => {})(), ["got a function"], []],
  ["an array: its length only", ["postgres://user:secret@x", "sk-1"], ["got an array of 2 items"], ["secret", "sk-"]],
  [
    "an implementation holding secrets: key names only",
    secretImplementation,
    ["got an object { dbUrl, apiKey, getFeature }"],
    ["secret", "sk-", "postgres", "async"],
  ],
  [
    "many keys: the first four and a count",
    { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 },
    ["{ a, b, c, d, … 2 more }"],
    ["1", " e,"],
  ],
  ["a long key name: cut", { [`k${"x".repeat(200)}`]: 1 }, ["{ kxxx", "x… }"], ["x".repeat(31)]],
  ["an empty object", {}, ["got an object {}"], []],
  ["a null-prototype object", Object.assign(Object.create(null), { token: "sk-1" }), ["{ token }"], ["sk-"]],
  [
    "a class instance: its class only",
    new RouteGuideService(),
    ["got an instance of RouteGuideService"],
    ["secret", "dbUrl"],
  ],
  ["an anonymous class", new (class {})(), ["an instance of an anonymous class"], []],
  ["a valid Date", new Date(0), ["got a Date (1970-01-01T00:00:00.000Z)"], []],
  ["an invalid Date", new Date(NaN), ["got a Date (Invalid Date)"], []],
  ["a Map", new Map([["authorization", "Bearer sk-1"]]), ["got a Map of 1 entries"], ["sk-", "authorization"]],
  ["a revoked Proxy: no trap throws out of the error", revoked.proxy, ["got an object"], []],
];

describe("InvalidOptionError describes the value briefly", () => {
  test.each(ROWS)("%s", (_what, value, contains, excludes) => {
    const error = new InvalidOptionError("option", value, "expected something");
    expect(error.message).toMatch(/^balanced-grpc: invalid option "option": expected something, got /);
    for (const text of contains) expect(error.message).toContain(text);
    for (const text of excludes) expect(error.message).not.toContain(text);
    expect(error.message.length).toBeLessThan(200);
  });

  test("logging the error does not print the value either", () => {
    const error = new InvalidOptionError("implementation", secretImplementation, "expected a function");
    expect(error.value).toBe(secretImplementation); // still there for code
    for (const shown of [inspect(error), inspect(error, { depth: 10 }), JSON.stringify(error), String(error)]) {
      expect(shown).not.toContain("secret");
      expect(shown).not.toContain("sk-");
    }
    expect(error.option).toBe("implementation");
    expect(error).toBeInstanceOf(TypeError);
  });

  test("a huge option name or expected text is cut", () => {
    const error = new InvalidOptionError("o".repeat(10_000), 1, `expected ${"e".repeat(10_000)}`);
    expect(error.message.length).toBeLessThan(500);
  });

  test("a 10,000-character target is not repeated in full, wherever it is quoted", () => {
    const error = (() => {
      try {
        validateTarget(`${"a".repeat(10_000)}!:50051`);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error!.message.length).toBeLessThan(500);
    expect(error!.message).toContain("(10007 characters)");
    expect(new ClientClosedError(long).message.length).toBeLessThan(200);
  });
});
