import {
  type ChannelCredentials,
  ClientError,
  credentials,
  pool,
  ServerCredentials,
  Status,
  type Strategy,
} from "balanced-grpc";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { type InProcessBackends as Backends, startBackends } from "../../harness/backend-group.js";
import { runCalls } from "../../harness/load.js";
import { strategies } from "../../harness/strategies.js";
import { createTestPki, type TestPki } from "../helpers/certificates.js";

let pki: TestPki;
let tlsBackends: Backends;
let mtlsBackends: Backends;

beforeAll(async () => {
  pki = await createTestPki();
  const keyPair = [{ private_key: pki.server.key, cert_chain: pki.server.cert }];
  tlsBackends = await startBackends(3, { credentials: ServerCredentials.createSsl(null, keyPair, false) });
  mtlsBackends = await startBackends(3, { credentials: ServerCredentials.createSsl(pki.ca, keyPair, true) });
});
afterAll(async () => {
  await tlsBackends?.shutdown();
  await mtlsBackends?.shutdown();
});

async function callsSucceed(target: string, creds: ChannelCredentials, strategy: Strategy) {
  const client = createGreeterClient({ target, strategy, credentials: creds });
  try {
    const { failed } = await runCalls(60, 6, () => client.sayHello({ name: "tls" }));
    expect(failed).toEqual([]);
  } finally {
    client.close();
  }
}

async function refused(target: string, creds: ChannelCredentials, hint?: RegExp): Promise<void> {
  const client = createGreeterClient({ target, strategy: pool(2), credentials: creds });
  try {
    const error = await client.sayHello({ name: "intruder" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
    if (hint) expect((error as ClientError).details).toMatch(hint);
  } finally {
    client.close();
  }
}

/** Connections each strategy opens to the 3 backends. */
const CONNECTIONS: Record<string, number> = { "pickFirst()": 1, "roundRobin()": 3, "pool(3)": 9 };

describe.each(strategies(3))("with %s", (name, strategy) => {
  const connections = CONNECTIONS[name]!;
  test("TLS: calls succeed with the right CA, over every connection", async () => {
    tlsBackends.reset();
    await callsSucceed(tlsBackends.target, credentials.createSsl(pki.ca), strategy);
    expect(tlsBackends.totalPeers()).toBe(connections);
  });

  test("mutual TLS: calls succeed with the right CA and client certificate", async () => {
    mtlsBackends.reset();
    await callsSucceed(mtlsBackends.target, credentials.createSsl(pki.ca, pki.client.key, pki.client.cert), strategy);
    expect(mtlsBackends.totalPeers()).toBe(connections);
  });
});

describe("refused", () => {
  test("TLS: a client that trusts another CA", () => refused(tlsBackends.target, credentials.createSsl(pki.otherCa)));
  test("TLS: a client without TLS (told so)", () =>
    refused(tlsBackends.target, credentials.createInsecure(), /does not use TLS.*credentials\.createSsl/));
  test("mutual TLS: a client without a certificate", () => refused(mtlsBackends.target, credentials.createSsl(pki.ca)));
  test("mutual TLS: a client certificate from another CA", () =>
    refused(mtlsBackends.target, credentials.createSsl(pki.ca, pki.otherClient.key, pki.otherClient.cert)));
  test("mutual TLS: a client that trusts another CA", () =>
    refused(mtlsBackends.target, credentials.createSsl(pki.otherCa, pki.client.key, pki.client.cert)));
});
