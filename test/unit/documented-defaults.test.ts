import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Status } from "nice-grpc-common";
import { expect, test } from "vitest";
import {
  ASSUMED_STREAM_LIMIT,
  DEFAULT_DRAIN,
  DEFAULT_FAILURE_ACCRUAL,
  DEFAULT_HANDLE_SIGNALS,
  DEFAULT_HEALTH,
  DEFAULT_HEALTH_CHECK,
  DEFAULT_HEDGING,
  DEFAULT_KEEPALIVE,
  DEFAULT_MAX_METADATA_SIZE,
  DEFAULT_OUTLIER_DETECTION,
  DEFAULT_PICK,
  DEFAULT_POOL_IDLE_MS,
  DEFAULT_POOL_MAX,
  DEFAULT_POOL_MIN,
  DEFAULT_RETRY,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_STRATEGY,
  DEFAULT_TELEMETRY,
  DEFAULT_TRANSPORT,
} from "../../src/defaults.js";

// Every `@default` written in the library's JSDoc, checked against the value
// the code applies (defaults.ts), so the documentation cannot drift. A value
// with braces is a code span: TSDoc (API Extractor, `npm run api`) reads a
// bare `{` as the start of an inline tag.

const src = join(import.meta.dirname, "../../src");
const retry = DEFAULT_RETRY;

/** `file#declaration` → what its JSDoc must say after `@default`. */
const EXPECTED: Record<string, string> = {
  "client-options.ts#credentials": "credentials.createInsecure()",
  "client-options.ts#channelOptions": "`{}`",
  "client-options.ts#keepalive": "false",
  "client-options.ts#maxConnectionAge": "undefined (connections are kept)",
  "client-options.ts#outlierDetection": "false",
  "client-options.ts#timeMs": String(DEFAULT_KEEPALIVE.timeMs),
  "client-options.ts#timeoutMs": String(DEFAULT_KEEPALIVE.timeoutMs),
  "client-options.ts#intervalMs": String(DEFAULT_OUTLIER_DETECTION.intervalMs),
  "client-options.ts#baseEjectionTimeMs": String(DEFAULT_OUTLIER_DETECTION.baseEjectionTimeMs),
  "client-options.ts#maxEjectionTimeMs": String(DEFAULT_OUTLIER_DETECTION.maxEjectionTimeMs),
  "client-options.ts#maxEjectionPercent": String(DEFAULT_OUTLIER_DETECTION.maxEjectionPercent),
  "client-options.ts#failurePercentageThreshold": String(DEFAULT_OUTLIER_DETECTION.failurePercentageThreshold),
  "client-options.ts#minimumHosts": String(DEFAULT_OUTLIER_DETECTION.minimumHosts),
  "client-options.ts#requestVolume": String(DEFAULT_OUTLIER_DETECTION.requestVolume),
  "client-options.ts#strategy": `${DEFAULT_STRATEGY}()`,
  "client-options.ts#middleware": "[]",
  "client-options.ts#defaultCallOptions": "`{}`",
  "client-options.ts#retry": `\`{ retryBaseDelayMs: ${retry.retryBaseDelayMs}, retryMaxDelayMs: ${retry.retryMaxDelayMs}, retryMaxAttempts: ${retry.retryMaxAttempts} }\``,
  "client-options.ts#failureAccrual": "true",
  "client-options.ts#healthCheck": "true",
  "client-options.ts#serviceName": JSON.stringify(DEFAULT_HEALTH_CHECK.serviceName),
  "client-options.ts#consecutiveFailures": String(DEFAULT_FAILURE_ACCRUAL.consecutiveFailures),
  "client-options.ts#baseEjectionMs": String(DEFAULT_FAILURE_ACCRUAL.baseEjectionMs),
  "client-options.ts#maxEjectionMs": String(DEFAULT_FAILURE_ACCRUAL.maxEjectionMs),
  "client-options.ts#ratio": String(DEFAULT_RETRY_BUDGET.ratio),
  "client-options.ts#minPerSecond": String(DEFAULT_RETRY_BUDGET.minPerSecond),
  "client-options.ts#retryBudget": `\`{ ratio: ${DEFAULT_RETRY_BUDGET.ratio}, minPerSecond: ${DEFAULT_RETRY_BUDGET.minPerSecond} }\``,
  "client-options.ts#hedging": "false",
  "client-options.ts#telemetry": String(DEFAULT_TELEMETRY),
  "client-options.ts#maxMetadataSize": String(DEFAULT_MAX_METADATA_SIZE),
  "client-options.ts#transport": JSON.stringify(DEFAULT_TRANSPORT),
  "client-options.ts#maxConnectionAgeGrace": "undefined (calls run as long as they take)",
  "call/call-options.ts#delayMs": JSON.stringify(DEFAULT_HEDGING.delayMs),
  "call/call-options.ts#maxHedges": String(DEFAULT_HEDGING.maxHedges),
  "call/call-options.ts#budget": String(DEFAULT_HEDGING.budget),
  "call/call-options.ts#hedge": "the client's `hedging`, for idempotent methods",
  "strategy.ts#pick": JSON.stringify(DEFAULT_PICK),
  "channel/balanced-channel.ts#graceMs": "undefined (calls already sent run until they end)",
  "strategy.ts#streamsPerConnection": `undefined (the limit the server advertises; ${ASSUMED_STREAM_LIMIT} when unknown)`,
  "strategy.ts#min": String(DEFAULT_POOL_MIN),
  "strategy.ts#max": String(DEFAULT_POOL_MAX),
  "strategy.ts#idleMs": String(DEFAULT_POOL_IDLE_MS),
  "channel/create-balanced-channel.ts#strategy": `${DEFAULT_STRATEGY}()`,
  "call/call-options.ts#deadline": "undefined (no deadline)",
  "call/call-options.ts#retry": "true for idempotent methods, false otherwise",
  "call/call-options.ts#retryBaseDelayMs": String(retry.retryBaseDelayMs),
  "call/call-options.ts#retryMaxDelayMs": String(retry.retryMaxDelayMs),
  "call/call-options.ts#retryMaxAttempts": String(retry.retryMaxAttempts),
  "call/call-options.ts#retryableStatuses": `[${retry.retryableStatuses.map((s) => `Status.${Status[s]}`).join(", ")}]`,
  "call/call-options.ts#onRetryableError": "undefined",
  "call/call-options.ts#waitForReady": "false",
  "server-options.ts#address": '"127.0.0.1:0"',
  "server-options.ts#credentials": "ServerCredentials.createInsecure()",
  "server-options.ts#middleware": "[]",
  "server-options.ts#maxConnectionAge": "undefined (no maximum age)",
  "server-options.ts#maxConnectionAgeGrace": "undefined (wait for running calls however long they take)",
  "server-options.ts#keepalive": "undefined (grpc-js default: no server pings)",
  "server-options.ts#channelOptions": "`{}`",
  "server-options.ts#maxConcurrentStreams": "undefined (no limit)",
  "server-options.ts#telemetry": String(DEFAULT_TELEMETRY),
  "server-options.ts#health": String(DEFAULT_HEALTH),
  "server-options.ts#drain": `\`{ delayMs: ${DEFAULT_DRAIN.delayMs}, timeoutMs: ${DEFAULT_DRAIN.timeoutMs} }\``,
  "server-options.ts#handleSignals": String(DEFAULT_HANDLE_SIGNALS),
  "server-options.ts#delayMs": String(DEFAULT_DRAIN.delayMs),
  "server-options.ts#timeoutMs": String(DEFAULT_DRAIN.timeoutMs),
  "server.ts#timeout": `the server's \`drain.timeoutMs\` (${DEFAULT_SHUTDOWN_TIMEOUT_MS})`,
};

/** Every `@default` in a JSDoc block of src/, keyed by the declaration it documents. */
function documentedDefaults(): Record<string, string> {
  const found: Record<string, string> = {};
  const files = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
  for (const file of files) {
    const text = readFileSync(join(src, file), "utf8");
    for (const block of text.matchAll(/\/\*\*([\s\S]*?)\*\/\s*(?:\/\/[^\n]*\n\s*)*([^\n]*)/g)) {
      const [, doc = "", next = ""] = block;
      for (const [, value] of doc.matchAll(/@default ([^\n]*)/g)) {
        // `@param name … @default x` documents a parameter; else the declaration after the block.
        const param = /@param (\w+)[^\n]*@default/.exec(doc)?.[1];
        const name = param ?? /^(?:export\s+)?(?:function\s+)?(?:readonly\s+)?(\w+)/.exec(next.trim())?.[1];
        const key = `${relative(src, join(src, file))}#${name}`;
        expect(found[key], `two @default for ${key}`).toBeUndefined();
        found[key] = value!.trim();
      }
    }
  }
  return found;
}

test("every @default in the JSDoc says what the code applies, and each is listed here", () => {
  const found = documentedDefaults();
  delete found["defaults.ts#DEFAULT_STRATEGY"]; // the module's own header mentions the tag
  expect(found).toEqual(EXPECTED);
});
