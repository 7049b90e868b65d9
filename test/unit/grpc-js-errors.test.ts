import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import {
  isNoConnection,
  isRefusedStream,
  NO_CONNECTION_DETAILS,
  REFUSED_STREAM_DETAILS,
} from "../../src/grpc-js-errors.js";

// The SDK tells these failures apart only by grpc-js's words: a grpc-js that
// words them otherwise must fail here, not silently stop replays.
const grpcJs = dirname(createRequire(import.meta.url).resolve("@grpc/grpc-js"));
const source = (file: string) => readFileSync(join(grpcJs, file), "utf8");

describe("grpc-js's words for the failures the SDK tells apart", () => {
  test("the installed grpc-js still says them", () => {
    expect(source("subchannel-call.js")).toContain(`'${REFUSED_STREAM_DETAILS}'`);
    expect(source("load-balancer-pick-first.js")).toContain(`${NO_CONNECTION_DETAILS}. Last error`);
  });

  test("a refused stream: UNAVAILABLE with exactly those details", () => {
    expect(isRefusedStream(status.UNAVAILABLE, "Stream refused by server")).toBe(true);
    expect(isRefusedStream(status.UNAVAILABLE, "Stream refused by server (proxy)")).toBe(false);
    expect(isRefusedStream(status.INTERNAL, "Stream refused by server")).toBe(false);
    expect(isRefusedStream(status.UNAVAILABLE, undefined)).toBe(false);
  });

  test("no connection: UNAVAILABLE whose details contain the words, as grpc-js's policies prefix them", () => {
    expect(isNoConnection(status.UNAVAILABLE, "round_robin: No connection established. Last error: x")).toBe(true);
    expect(isNoConnection(status.UNAVAILABLE, "Connection dropped")).toBe(false);
    expect(isNoConnection(status.DEADLINE_EXCEEDED, "No connection established")).toBe(false);
  });
});
