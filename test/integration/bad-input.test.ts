import { spawn } from "node:child_process";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  CallbackError,
  type ClientMiddleware,
  createServiceClient,
  InvalidOptionError,
  Metadata,
  roundRobin,
} from "balanced-grpc";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GreeterDefinition } from "../../generated/helloworld/helloworld.js";
import { createRouteGuideClient, type RouteGuideSdkClient } from "../../generated/routeguide/route_guide_sdk.js";
import { type Backend, startBackend } from "../../harness/backend.js";

// Issue 17's contract at the client's entry points: bad input is an error the
// caller can catch, naming what was wrong and (briefly) the value, before
// anything is sent; never a crash, a hang, or a user object in a message.

let backend: Backend;
let routes: RouteGuideSdkClient;

beforeAll(async () => {
  backend = await startBackend();
  routes = createRouteGuideClient({ target: backend.address, strategy: roundRobin() });
});
afterAll(async () => {
  routes.close();
  await backend.shutdown();
});

/** Runs `make` and returns what it threw, or undefined. */
function thrown(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectInvalid(error: unknown, option: string, ...words: string[]): void {
  expect(error).toBeInstanceOf(InvalidOptionError);
  const { message } = error as InvalidOptionError;
  expect((error as InvalidOptionError).option).toBe(option);
  for (const word of words) expect(message).toContain(word);
  expect(message.length).toBeLessThan(600);
}

describe("client options", () => {
  const target = "127.0.0.1:1";
  test.each([
    ["a misspelled option", { target, tagret: "x" }, "tagret", ['did you mean "target"']],
    ["credentials that are not grpc-js's", { target, credentials: {} }, "credentials", ["ChannelCredentials"]],
    [
      "an async (not generator) middleware",
      { target, middleware: [async () => {}] },
      "middleware[0]",
      ["async function*"],
    ],
    ["a retry budget ratio below 0", { target, retryBudget: { ratio: -1 } }, "retryBudget.ratio", ["-1"]],
    ["a misspelled retry budget field", { target, retryBudget: { ration: 1 } }, "retryBudget.ration", ["ratio"]],
    ["a negative hedge delay", { target, hedging: { delayMs: -5 } }, "hedging.delayMs", ["-5"]],
    ["hedging of 9 hedges", { target, hedging: { maxHedges: 9 } }, "hedging.maxHedges", ["1 to 4"]],
    ["hedging's former maxAttempts", { target, hedging: { maxAttempts: 3 } }, "hedging.maxAttempts", ["maxHedges: 2"]],
    [
      "failure accrual after 0 failures",
      { target, failureAccrual: { consecutiveFailures: 0 } },
      "failureAccrual.consecutiveFailures",
      ["0"],
    ],
    ["a misspelled keepalive field", { target, keepalive: { timeMS: 1 } }, "keepalive.timeMS", ['"keepalive.timeMs"']],
    [
      "defaultCallOptions for no method",
      { target, defaultCallOptions: { sayHelo: {} } },
      "defaultCallOptions.sayHelo",
      ["sayHello"],
    ],
    [
      "a NaN default deadline",
      { target, defaultCallOptions: { "*": { deadline: Number.NaN } } },
      "defaultCallOptions.*.deadline",
      ["NaN"],
    ],
    [
      "an unknown default call option",
      { target, defaultCallOptions: { "*": { dedline: 5 } } },
      "defaultCallOptions.*.dedline",
      ['"defaultCallOptions.*.deadline"'],
    ],
    [
      "a 10,000-character target",
      { target: `h${"x".repeat(10_000)}:1` },
      "target",
      ["253 characters", "(10003 characters)"],
    ],
  ] as const)("%s", (_name, options, option, words) => {
    expectInvalid(
      thrown(() => createServiceClient(GreeterDefinition, options as never)),
      option,
      ...words,
    );
  });
});

describe("call options, every call kind: the call fails (never throws, never crashes) and nothing is sent", () => {
  const area = { lo: { latitude: 0, longitude: 0 }, hi: { latitude: 1, longitude: 1 } };
  async function* points() {
    yield { latitude: 1, longitude: 1 };
  }
  const kinds = {
    unary: (options: object) => routes.getFeature({ latitude: 1 }, options),
    serverStreaming: async (options: object) => {
      for await (const _ of routes.listFeatures(area, options));
    },
    clientStreaming: (options: object) => routes.recordRoute(points(), options),
    bidiStreaming: async (options: object) => {
      for await (const _ of routes.routeChat(points() as never, options));
    },
  };
  const rows = [
    [{ deadline: Number.NaN }, "deadline"],
    [{ deadline: new Date(Number.NaN) }, "deadline"],
    [{ deadline: 1e15 }, "deadline"],
    [{ deadline: Number.MAX_SAFE_INTEGER }, "deadline"],
    [{ deadline: "5000" }, "deadline"],
    [{ retryMaxAttempts: -1 }, "retryMaxAttempts"],
    [{ signal: {} }, "signal"],
    [{ metadata: { "x-key": "value" } }, "metadata"],
    [{ waitForReady: "yes" }, "waitForReady"],
    [{ hedge: { delayMs: "soon" } }, "hedge.delayMs"],
    [{ dedline: 5 }, "dedline"],
  ] as const;
  test.each(Object.keys(kinds))("%s", async (kind) => {
    const run = kinds[kind as keyof typeof kinds];
    const calls = backend.calls;
    for (const [options, option] of rows) {
      let result: unknown;
      expect(() => {
        result = run(options);
      }).not.toThrow();
      expectInvalid(
        await (result as Promise<unknown>).then(
          () => undefined,
          (e: unknown) => e,
        ),
        option,
      );
    }
    expect(backend.calls).toBe(calls); // (Greeter counts; RouteGuide calls never reached a handler either)
  });
});

describe("metadata too large to send", () => {
  test("fails at once, before anything is sent, naming its size and the limit; not retried", async () => {
    const greeter = createServiceClient(GreeterDefinition, { target: backend.address });
    const retries: number[] = [];
    const calls = backend.calls;
    const error = await greeter
      .sayHello({}, { metadata: Metadata({ "x-big": "a".repeat(1_000_000) }), onRetryableError: () => retries.push(1) })
      .catch((e: unknown) => e);
    expectInvalid(error, "metadata", "1000037 bytes", "at most 65536 bytes", "maxMetadataSize");
    expect(retries).toEqual([]);
    expect(backend.calls).toBe(calls);
    await greeter.close();
  });

  test("below the limit it is sent; a raised limit lets the server decide (a grpc-js server resets the stream, once)", async () => {
    const greeter = createServiceClient(GreeterDefinition, { target: backend.address, maxMetadataSize: 2_000_000 });
    await expect(greeter.sayHello({}, { metadata: Metadata({ "x-ok": "a".repeat(60_000) }) })).resolves.toBeDefined();
    const retries: number[] = [];
    const error = await greeter
      .sayHello({}, { metadata: Metadata({ "x-big": "a".repeat(1_000_000) }), onRetryableError: () => retries.push(1) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 13 });
    expect(retries).toEqual([]);
    await greeter.close();
  });

  test("maxMetadataSize must be a whole number of bytes", () => {
    expectInvalid(
      thrown(() => createServiceClient(GreeterDefinition, { target: backend.address, maxMetadataSize: 0 })),
      "maxMetadataSize",
      "0",
    );
  });
});

describe("callbacks that throw", () => {
  const boom = () => {
    throw new Error("my callback broke");
  };
  test.each(["onHeader", "onTrailer", "onRetryableError"] as const)(
    "%s: the call fails with a CallbackError, the process goes on, close() resolves",
    async (name) => {
      const greeter = createServiceClient(GreeterDefinition, { target: backend.address, strategy: roundRobin() });
      if (name === "onRetryableError") backend.knobs.failEvery = 1;
      try {
        const error = await greeter.sayHello({ name: "x" }, { [name]: boom }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(CallbackError);
        expect(error).toMatchObject({ callback: name, cause: new Error("my callback broke") });
      } finally {
        backend.knobs.failEvery = 0;
      }
      await expect(greeter.close()).resolves.toBeUndefined();
    },
  );

  test("a stream's onTrailer: the loop throws it; the client closes", async () => {
    const error = await (async () => {
      for await (const _ of routes.listFeatures({}, { onTrailer: boom }));
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "CallbackError", callback: "onTrailer" });
  });
});

describe("middleware", () => {
  const sayHello = (middleware: ClientMiddleware<object>[]) =>
    createServiceClient(GreeterDefinition, { target: backend.address, middleware });

  test("one that throws at once fails the call the same way for every kind: a rejection", async () => {
    const throwing = (() => {
      throw new Error("middleware broke");
    }) as unknown as ClientMiddleware<object>;
    const greeter = sayHello([throwing]);
    await expect(greeter.sayHello({})).rejects.toThrow("middleware broke");
    const streams = createRouteGuideClient({ target: backend.address, middleware: [throwing] });
    let iterate: AsyncIterable<unknown> | undefined;
    expect(() => {
      iterate = streams.listFeatures({});
    }).not.toThrow();
    await expect(
      (async () => {
        for await (const _ of iterate!);
      })(),
    ).rejects.toThrow("middleware broke");
    greeter.close();
    streams.close();
  });

  test("one that returns no async iterator is named as such", async () => {
    const plain = (() => Promise.resolve({})) as unknown as ClientMiddleware<object>;
    const greeter = sayHello([plain]);
    await expect(greeter.sayHello({})).rejects.toThrow(/async generator/);
    greeter.close();
  });
});

describe("close()", () => {
  test("resolves once the calls in flight have ended", async () => {
    backend.knobs.slowMs = 500;
    const greeter = createServiceClient(GreeterDefinition, { target: backend.address });
    const before = backend.calls;
    const call = greeter.sayHello({ name: "slow" });
    // Closed while the server is handling the call (the handler has started).
    while (backend.calls === before) await delay(5);
    let closedFirst = false;
    const closed = greeter.close().then(() => {
      closedFirst = true;
    });
    const reply = await call;
    expect(closedFirst).toBe(false);
    expect(reply.message).toContain("slow");
    await closed;
    backend.knobs.slowMs = 0;
  });

  test("with graceMs, a call that never ends is cancelled and the process exits by itself", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "../fixtures/exit-after-close-with-hung-call.ts")],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const result = await Promise.race([exited, delay(30_000).then(() => "still running" as const)]);
    if (result === "still running") child.kill("SIGKILL");
    expect(output).toContain("rejected 1"); // CANCELLED
    expect(output).toContain("closed");
    expect(result).toBe(0);
  });

  test("graceMs must be a duration", () => {
    const greeter = createServiceClient(GreeterDefinition, { target: backend.address });
    expectInvalid(
      thrown(() => greeter.close({ graceMs: -1 })),
      "graceMs",
      "-1",
    );
    greeter.close();
  });
});
