// The SDK's own HTTP/2 transport (transport: "http2") against real servers:
// grpc-go (harness/go) for the four call kinds, SETTINGS and health; raw
// grpc-js servers for the wire's edges (metadata, errors, trailers-only,
// deadlines, a unix socket); a node:http2 server that compresses; the SDK's servers for TLS and for
// GOAWAY under max connection age.
import { mkdtemp, rm } from "node:fs/promises";
import {
  createServer as createHttp2Server,
  type Http2Session,
  constants as h2constants,
  type ServerHttp2Stream,
} from "node:http2";
import { createServer as createNetServer, connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync, gzipSync } from "node:zlib";
import {
  Metadata as GrpcMetadata,
  ServerCredentials as GrpcServerCredentials,
  Server,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import {
  ClientError,
  createServiceClient,
  credentials,
  Metadata,
  pool,
  ServerCredentials,
  Status,
  type Strategy,
} from "balanced-grpc";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GreeterDefinition, HelloReply, HelloRequest } from "../../generated/helloworld/helloworld.js";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import type { Point, RouteNote } from "../../generated/routeguide/route_guide.js";
import { createRouteGuideClient } from "../../generated/routeguide/route_guide_sdk.js";
import { startBackends } from "../../harness/backend-group.js";
import { startConnectProxy } from "../../harness/connect-proxy.js";
import { type BenchServer, buildGoServer, startGoServer } from "../../harness/go-server.js";
import { runCalls, runLoad } from "../../harness/load.js";
import { strategies } from "../../harness/strategies.js";
import { createTestPki } from "../helpers/certificates.js";
import { withEnvironment } from "../helpers/environment.js";

const http2 = { transport: "http2", retry: false } as const;

describe("the transport option", () => {
  test("is checked: a value other than the two names is refused, naming the option", () => {
    expect(() => createGreeterClient({ target: "127.0.0.1:1", transport: "h2" as never })).toThrow(
      /invalid option "transport": expected "grpc-js" or "http2", got 'h2'/,
    );
  });
});

// --- grpc-go -------------------------------------------------------------------

const go = await buildGoServer();
let goServer: BenchServer | undefined;
let goLimited: BenchServer | undefined;
let goAging: BenchServer | undefined;
beforeAll(async () => {
  if (!go.binary) return;
  goServer = await startGoServer(go.binary, ["-features", "300"]);
  goLimited = await startGoServer(go.binary, ["-max-streams", "7", "-health"]);
  goAging = await startGoServer(go.binary, ["-max-age", "200ms", "-max-age-grace", "2s"]);
});
afterAll(async () => {
  await goServer?.stop();
  await goLimited?.stop();
  await goAging?.stop();
});

const POINT: Point = { latitude: 409_146_138, longitude: -746_188_906 };
const RECTANGLE = { lo: { latitude: 0, longitude: -800_000_000 }, hi: { latitude: 500_000_000, longitude: 0 } };

describe.skipIf(!go.binary)(`against grpc-go${go.reason ? ` (skipped: ${go.reason})` : ""}`, () => {
  describe.each(strategies(4))("%s", (_name, strategy) => {
    test("unary, server streaming, client streaming and bidi", async () => {
      const greeter = createGreeterClient({ target: goServer!.address, strategy, ...http2 });
      const guide = createRouteGuideClient({ target: goServer!.address, strategy, ...http2 });
      try {
        const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => greeter.sayHello({ name: `n${i}` })));
        expect(replies.map((r) => r.message)).toEqual(Array.from({ length: 50 }, (_, i) => `Hello n${i}`));

        let features = 0;
        for await (const feature of guide.listFeatures(RECTANGLE)) {
          expect(feature.name).toBe(`feature ${features}`);
          features++;
        }
        expect(features).toBe(300);

        async function* points() {
          for (let i = 0; i < 25; i++) yield POINT;
        }
        expect((await guide.recordRoute(points())).pointCount).toBe(25);

        async function* notes(): AsyncIterable<RouteNote> {
          for (let i = 0; i < 20; i++) yield { location: POINT, message: `note ${i}` };
        }
        const echoes: string[] = [];
        for await (const note of guide.routeChat(notes())) echoes.push(note.message);
        expect(echoes).toEqual(Array.from({ length: 20 }, (_, i) => `note ${i}`));
      } finally {
        await greeter.close();
        await guide.close();
      }
    });
  });

  describe.each(strategies(4))(
    "grpc-go closing every connection after 200 ms (GOAWAY, ping, GOAWAY), %s",
    (name, strategy) => {
      test("unary calls at c=50 for 1.5 s (7 or more rotations per connection): 0 failures, retries off", async () => {
        const client = createGreeterClient({ target: goAging!.address, strategy, ...http2 });
        try {
          const result = await runLoad(() => client.sayHello({ name: "age" }), {
            concurrency: 50,
            durationMs: 1_500,
            maxCalls: 50_000,
          });
          const replays = client.$channel.refusedStreamReplays;
          console.log(`grpc-go max age, ${name}: ${result.calls} calls, ${result.failures} failed, ${replays} replays`);
          expect(result.errors).toEqual([]);
          expect(result.calls).toBeGreaterThan(0);
        } finally {
          await client.close();
        }
      });
    },
  );

  test("a slow consumer of a server stream: messages held while it is behind all arrive, in order, then the end", async () => {
    const guide = createRouteGuideClient({ target: goServer!.address, ...http2 });
    try {
      // The whole stream (300 small messages) arrives long before the consumer reads it: the call
      // holds what the consumer has not asked for, and the trailers wait behind them.
      const names: string[] = [];
      for await (const feature of guide.listFeatures(RECTANGLE)) {
        names.push(feature.name);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(names).toEqual(Array.from({ length: 300 }, (_, i) => `feature ${i}`));
    } finally {
      await guide.close();
    }
  });

  test("trailers-only: a method the server lacks fails UNIMPLEMENTED, with no response headers", async () => {
    const nope = { ...GreeterDefinition, fullName: "helloworld.Nope" } as unknown as typeof GreeterDefinition;
    const client = createServiceClient(nope, { target: goServer!.address, ...http2 });
    let headers = 0;
    let trailers = 0;
    try {
      const error = await client
        .sayHello({ name: "x" }, { onHeader: () => headers++, onTrailer: () => trailers++ })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).code).toBe(Status.UNIMPLEMENTED);
      expect((error as ClientError).details).toContain("helloworld.Nope");
      expect({ headers, trailers }).toEqual({ headers: 0, trailers: 1 });
    } finally {
      await client.close();
    }
  });

  test("each connection's stream limit is the server's SETTINGS, read on the connection itself; health on it too", async () => {
    const client = createGreeterClient({ target: goLimited!.address, strategy: pool(2), ...http2 });
    try {
      await Promise.all(Array.from({ length: 20 }, () => client.sayHello({ name: "limit" })));
      const stats = client.$channel.stats();
      expect(stats).toHaveLength(2);
      for (const connection of stats) {
        expect(connection.streamLimit).toBe(7);
        expect(connection.streamLimitSource).toBe("server");
      }
      // The health Watch runs on each connection's own stream (grpc.health.v1 on the Go server).
      await expect.poll(() => client.$channel.stats().map((c) => c.healthSource)).toEqual(["serving", "serving"]);
    } finally {
      await client.close();
    }
  });
});

// --- grpc-js servers for the wire's edges --------------------------------------

const GREETER_SERVICE = {
  sayHello: {
    path: "/helloworld.Greeter/SayHello",
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: HelloRequest) => Buffer.from(HelloRequest.encode(m).finish()),
    requestDeserialize: (b: Buffer) => HelloRequest.decode(b),
    responseSerialize: (m: HelloReply) => Buffer.from(HelloReply.encode(m).finish()),
    responseDeserialize: (b: Buffer) => HelloReply.decode(b),
  },
};
type Handler = (call: ServerUnaryCall<HelloRequest, HelloReply>, callback: sendUnaryData<HelloReply>) => void;

async function grpcJsServer(handler: Handler, options: Record<string, number> = {}, address = "127.0.0.1:0") {
  const server = new Server(options);
  server.addService(GREETER_SERVICE, { sayHello: handler });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, GrpcServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return { target: address.startsWith("unix:") ? address : `127.0.0.1:${port}`, server };
}

/** The interop suite's special_status_message: whitespace, BMP and non-BMP characters, percent-encoded on the wire. */
const SPECIAL = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n, 100% : / ?";
const BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe("against grpc-js servers", () => {
  let edge: Awaited<ReturnType<typeof grpcJsServer>>;
  const seen = { userAgent: "", deadline: undefined as Date | number | undefined };
  beforeAll(async () => {
    edge = await grpcJsServer((call, callback) => {
      seen.userAgent = String(call.metadata.get("user-agent")[0]);
      const echo = new GrpcMetadata();
      for (const key of ["x-text", "x-bytes-bin"]) for (const value of call.metadata.get(key)) echo.add(key, value);
      switch (call.request.name) {
        case "echo":
          call.sendMetadata(echo);
          callback(null, { message: "echoed" }, echo.clone());
          return;
        case "fail-with-details": {
          call.sendMetadata(new GrpcMetadata());
          const trailer = new GrpcMetadata();
          trailer.set("grpc-status-details-bin", BYTES);
          callback({ code: status.INVALID_ARGUMENT, details: SPECIAL, metadata: trailer });
          return;
        }
        case "fail-at-once":
          callback({ code: status.FAILED_PRECONDITION, details: "no headers first", metadata: echo });
          return;
        case "hang":
          seen.deadline = call.getDeadline();
          return; // never answers: the deadline ends it
        default:
          callback(null, { message: `Hello ${call.request.name}` });
      }
    });
  });
  afterAll(() => edge.server.forceShutdown());

  test("the calls go on the SDK's transport (its user-agent)", async () => {
    const client = createGreeterClient({ target: edge.target, ...http2 });
    await client.sayHello({ name: "who" });
    await client.close();
    expect(seen.userAgent).toMatch(/^grpc-node-balanced-grpc-http2\//);
  });

  test("metadata both ways: text and -bin, in the response headers and trailers", async () => {
    const client = createGreeterClient({ target: edge.target, ...http2 });
    const sent = new Metadata({ "x-text": "a, b" });
    sent.set("x-bytes-bin", BYTES);
    let header: Metadata | undefined;
    let trailer: Metadata | undefined;
    const reply = await client.sayHello(
      { name: "echo" },
      { metadata: sent, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
    );
    await client.close();
    expect(reply.message).toBe("echoed");
    for (const received of [header!, trailer!]) {
      expect(received.get("x-text")).toBe("a, b");
      expect(Buffer.from(received.get("x-bytes-bin") as Uint8Array)).toEqual(BYTES);
    }
  });

  test("an error with details: its code, its message percent-decoded, grpc-status-details-bin in the trailers", async () => {
    const client = createGreeterClient({ target: edge.target, ...http2 });
    let trailer: Metadata | undefined;
    const error = await client
      .sayHello({ name: "fail-with-details" }, { onTrailer: (t) => (trailer = t) })
      .catch((e: unknown) => e);
    await client.close();
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(Status.INVALID_ARGUMENT);
    expect((error as ClientError).details).toBe(SPECIAL);
    expect(Buffer.from(trailer!.get("grpc-status-details-bin") as Uint8Array)).toEqual(BYTES);
  });

  test("trailers-only: an error before any header comes as the status, with its metadata, and no header", async () => {
    const client = createGreeterClient({ target: edge.target, ...http2 });
    let headers = 0;
    let trailer: Metadata | undefined;
    const sent = new Metadata({ "x-text": "kept" });
    const error = await client
      .sayHello(
        { name: "fail-at-once" },
        { metadata: sent, onHeader: () => headers++, onTrailer: (t) => (trailer = t) },
      )
      .catch((e: unknown) => e);
    await client.close();
    expect((error as ClientError).code).toBe(Status.FAILED_PRECONDITION);
    expect((error as ClientError).details).toBe("no headers first");
    expect(headers).toBe(0);
    expect(trailer!.get("x-text")).toBe("kept");
  });

  test("a deadline reaches the server as grpc-timeout, and a call past it fails DEADLINE_EXCEEDED", async () => {
    const client = createGreeterClient({ target: edge.target, ...http2 });
    const sentAt = Date.now();
    const error = await client.sayHello({ name: "hang" }, { deadline: 300 }).catch((e: unknown) => e);
    await client.close();
    expect((error as ClientError).code).toBe(Status.DEADLINE_EXCEEDED);
    const deadline = seen.deadline instanceof Date ? seen.deadline.getTime() : Number(seen.deadline);
    expect(Number.isFinite(deadline)).toBe(true);
    // The server's deadline is the client's: 300 ms after sending, give or take the clocks of one process.
    expect(deadline).toBeGreaterThan(sentAt);
    expect(deadline).toBeLessThanOrEqual(sentAt + 300 + 1_000);
  });

  test("a deadline beyond a timer's range (30 days) is no timer: the call is served, not ended at once", async () => {
    const client = createGreeterClient({ target: edge.target, ...http2 });
    try {
      const far = new Date(Date.now() + 30 * 24 * 3600 * 1000);
      // (The header says 2592000S, as grpc-js's does; grpc-js's server reads it into 32 bits.)
      expect((await client.sayHello({ name: "later" }, { deadline: far })).message).toBe("Hello later");
    } finally {
      await client.close();
    }
  });

  test.each(["grpc-js", "http2"] as const)(
    "%s: a server's forceShutdown (GOAWAY with CANCEL) ends the call in flight CANCELLED",
    async (transport) => {
      let arrived!: () => void;
      const onServer = new Promise<void>((resolve) => (arrived = resolve));
      const hanging = await grpcJsServer(() => arrived());
      const client = createGreeterClient({ target: hanging.target, transport, retry: false });
      try {
        const call = client.sayHello({ name: "cut" }).catch((e: unknown) => e);
        await onServer;
        hanging.server.forceShutdown();
        expect(((await call) as ClientError).code).toBe(Status.CANCELLED);
      } finally {
        await client.close();
      }
    },
  );

  test("a unix socket target", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bg-transport-"));
    const unix = await grpcJsServer(
      (call, callback) => callback(null, { message: `Hello ${call.request.name}` }),
      {},
      `unix:${join(dir, "s.sock")}`,
    );
    const client = createGreeterClient({ target: unix.target, ...http2 });
    try {
      expect((await client.sayHello({ name: "unix" })).message).toBe("Hello unix");
    } finally {
      await client.close();
      unix.server.forceShutdown();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test.each(["gzip", "deflate"] as const)("a response the server compressed with %s is read", async (encoding) => {
    const big = "a".repeat(256 * 1024);
    const compressing = await compressingServer(encoding, big);
    const client = createGreeterClient({ target: compressing.target, ...http2 });
    try {
      expect((await client.sayHello({ name: "big" })).message).toBe(big);
      // The client said what it reads; the message came compressed (flag 1), a small fraction of its size.
      expect(compressing.offered()).toBe("identity,deflate,gzip");
      expect(compressing.sentBytes()).toBeLessThan(big.length / 10);
    } finally {
      await client.close();
      compressing.server.close();
    }
  });

  test("a compressed response that inflates past the receive limit fails RESOURCE_EXHAUSTED", async () => {
    const compressing = await compressingServer("gzip", "a".repeat(64 * 1024));
    const client = createGreeterClient({
      target: compressing.target,
      channelOptions: { "grpc.max_receive_message_length": 10_000 },
      ...http2,
    });
    try {
      const error = await client.sayHello({ name: "big" }).catch((e: unknown) => e);
      expect((error as ClientError).code).toBe(Status.RESOURCE_EXHAUSTED);
      expect((error as ClientError).details).toMatch(/decompresses to a size larger than 10000/);
    } finally {
      await client.close();
      compressing.server.close();
    }
  });
});

/**
 * A gRPC server written on node:http2 that answers every call with one
 * message compressed with `encoding` (flag 1, `grpc-encoding`): grpc-js's
 * server does not compress responses, and grpc-go 1.33 only when the
 * request was compressed.
 */
async function compressingServer(encoding: "gzip" | "deflate", message: string) {
  const reply = Buffer.from(HelloReply.encode({ message }).finish());
  const compressed = encoding === "gzip" ? gzipSync(reply) : deflateSync(reply);
  const framed = Buffer.alloc(5 + compressed.length);
  framed[0] = 1;
  framed.writeUInt32BE(compressed.length, 1);
  compressed.copy(framed, 5);
  let offered: string | undefined;
  const server = createHttp2Server();
  server.on("stream", (stream, headers) => {
    offered = String(headers["grpc-accept-encoding"]);
    stream.resume();
    stream.on("end", () => {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-encoding": encoding },
        { waitForTrailers: true },
      );
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(framed);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { target: `127.0.0.1:${port}`, server, offered: () => offered, sentBytes: () => framed.length };
}

describe("through an HTTP CONNECT proxy (grpc_proxy), as grpc-js goes", () => {
  test.each(["grpc-js", "http2"] as const)(
    "%s: calls tunnel through it with the proxy URL's credentials; a host in no_grpc_proxy goes direct",
    async (transport) => {
      const server = await grpcJsServer((call, callback) => callback(null, { message: `Hello ${call.request.name}` }));
      const port = server.target.split(":")[1];
      const proxy = await startConnectProxy();
      const proxyUrl = proxy.url.replace("//", "//user:s%40cret@");
      const options = { target: `localhost:${port}`, strategy: pool(2), transport, retry: false } as const;
      const proxied = withEnvironment({ grpc_proxy: proxyUrl }, () => createGreeterClient(options));
      const direct = withEnvironment({ grpc_proxy: proxyUrl, no_grpc_proxy: "example.com,localhost" }, () =>
        createGreeterClient(options),
      );
      try {
        expect((await proxied.sayHello({ name: "proxied" })).message).toBe("Hello proxied");
        // Both connections of pool(2) asked the proxy for the target (it resolves the name), with the credentials.
        expect(proxy.requests.length).toBeGreaterThanOrEqual(2);
        for (const request of proxy.requests) {
          expect(request).toEqual({
            target: `localhost:${port}`,
            authorization: `Basic ${Buffer.from("user:s@cret").toString("base64")}`,
          });
        }
        const asked = proxy.requests.length;
        expect((await direct.sayHello({ name: "direct" })).message).toBe("Hello direct");
        expect(proxy.requests.length).toBe(asked);
      } finally {
        await Promise.all([proxied.close(), direct.close()]);
        await proxy.close();
        server.server.forceShutdown();
      }
    },
  );

  test("http2: a proxy that refuses the tunnel fails the call UNAVAILABLE, naming the proxy's status", async () => {
    const proxy = await startConnectProxy();
    proxy.setStatus(403);
    const client = withEnvironment({ grpc_proxy: proxy.url }, () =>
      createGreeterClient({ target: "localhost:1", ...http2 }),
    );
    try {
      const error = await client.sayHello({ name: "refused" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
      expect((error as ClientError).details).toMatch(/The HTTP proxy refused to connect to localhost:1: status 403/);
    } finally {
      await client.close();
      await proxy.close();
    }
  });
});

describe("keepalive", () => {
  test("a server that stops answering (its pings too) is dropped: the call in flight fails UNAVAILABLE, not at its deadline", async () => {
    const hanging = await grpcJsServer(() => {}); // never answers a call
    const frozen = await freezableForwarder(hanging.target);
    const client = createGreeterClient({
      target: frozen.target,
      keepalive: { timeMs: 100, timeoutMs: 1_000 },
      healthCheck: false,
      ...http2,
    });
    try {
      const call = client.sayHello({ name: "hang" }, { deadline: 30_000 }).catch((e: unknown) => e);
      // Pings come and go while the path works; then nothing passes either way (a stopped host).
      await expect.poll(() => frozen.bytesFromServer()).toBeGreaterThan(0);
      frozen.freeze();
      const error = await call;
      expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
      expect((error as ClientError).details).toMatch(/Connection dropped/);
    } finally {
      await client.close();
      frozen.server.close();
      hanging.server.forceShutdown();
    }
  });
});

/** A TCP forwarder that can stop passing bytes, either way, without closing anything. */
async function freezableForwarder(target: string) {
  const [host, port] = target.split(":") as [string, string];
  let frozen = false;
  let bytes = 0;
  const server = createNetServer((client) => {
    const upstream = netConnect(Number(port), host);
    client.on("data", (chunk: Buffer) => {
      if (!frozen) upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (!frozen) client.write(chunk);
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: listening } = server.address() as { port: number };
  return {
    target: `127.0.0.1:${listening}`,
    server,
    bytesFromServer: () => bytes,
    freeze: () => {
      frozen = true;
    },
  };
}

describe("GOAWAY's last stream id", () => {
  test("the streams above it are sent again, each exactly once; those below it finish where they were", async () => {
    // A server on node:http2 that, on its first connection, holds the first 6 calls, then says GOAWAY
    // naming the 2nd as the last it will process, answers the first 2 and never looks at the rest.
    const answered = new Map<string, number>();
    const reply = Buffer.from(HelloReply.encode({ message: "ok" }).finish());
    const framed = Buffer.alloc(5 + reply.length);
    framed.writeUInt32BE(reply.length, 1);
    reply.copy(framed, 5);
    const answer = (stream: ServerHttp2Stream, id: string) => {
      answered.set(id, (answered.get(id) ?? 0) + 1);
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(framed);
    };
    let first: Http2Session | undefined;
    const held: { stream: ServerHttp2Stream; id: string }[] = [];
    const server = createHttp2Server();
    server.on("stream", (stream, headers) => {
      const id = String(headers["x-call-id"]);
      stream.on("error", () => {}); // the streams above the last id end refused
      stream.resume();
      first ??= stream.session;
      if (stream.session !== first) {
        stream.on("end", () => answer(stream, id));
        return;
      }
      held.push({ stream, id });
      if (held.length < 6) return;
      const last = held[1]!.stream.id!;
      stream.session!.goaway(h2constants.NGHTTP2_NO_ERROR, last);
      for (const call of held) if (call.stream.id! <= last) answer(call.stream, call.id);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    // No health Watch: the server counts the calls' streams only.
    const client = createGreeterClient({ target: `127.0.0.1:${port}`, healthCheck: false, ...http2 });
    try {
      const ids = Array.from({ length: 6 }, (_, i) => `call-${i}`);
      const results = await Promise.allSettled(
        ids.map((id) => client.sayHello({ name: id }, { metadata: new Metadata({ "x-call-id": id }) })),
      );
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
      expect([...answered.keys()].sort()).toEqual(ids);
      expect([...answered.values()]).toEqual(ids.map(() => 1));
      expect(client.$channel.refusedStreamReplays).toBe(4);
    } finally {
      await client.close();
      server.close();
    }
  });
});

// --- The SDK's servers: TLS, and GOAWAY under max connection age -----------------

describe("TLS with a private CA, and mutual TLS", () => {
  test("calls succeed with the CA (and the client's certificate); a client that trusts another CA is refused", async () => {
    const pki = await createTestPki();
    const keyPair = [{ private_key: pki.server.key, cert_chain: pki.server.cert }];
    const tls = await startBackends(2, { credentials: ServerCredentials.createSsl(null, keyPair, false) });
    const mtls = await startBackends(2, { credentials: ServerCredentials.createSsl(pki.ca, keyPair, true) });
    const run = async (target: string, creds: ReturnType<typeof credentials.createSsl>, strategy: Strategy) => {
      const client = createGreeterClient({ target, strategy, credentials: creds, ...http2 });
      try {
        return await runCalls(40, 4, () => client.sayHello({ name: "tls" }));
      } finally {
        await client.close();
      }
    };
    try {
      for (const [, strategy] of strategies(2)) {
        expect((await run(tls.target, credentials.createSsl(pki.ca), strategy)).failed).toEqual([]);
        const mutual = credentials.createSsl(pki.ca, pki.client.key, pki.client.cert);
        expect((await run(mtls.target, mutual, strategy)).failed).toEqual([]);
      }
      const refused = await run(tls.target, credentials.createSsl(pki.otherCa), pool(1));
      expect(refused.failed).toHaveLength(40);
      const noCertificate = await run(mtls.target, credentials.createSsl(pki.ca), pool(1));
      expect(noCertificate.failed).toHaveLength(40);
    } finally {
      await tls.shutdown();
      await mtls.shutdown();
    }
  });
});

describe.each(strategies(4))("connections rotating every 200 ms (server GOAWAY), %s", (name, strategy) => {
  test("2,000 unary calls at c=50: 0 failures, retries off (refused streams are sent again)", async () => {
    const backends = await startBackends(3, { maxConnectionAge: 200, maxConnectionAgeGrace: 2_000 });
    const client = createGreeterClient({ target: backends.target, strategy, ...http2 });
    try {
      const { failed } = await runCalls(2_000, 50, () => client.sayHello({ name: "rotate" }));
      console.log(
        `${name}: ${failed.length} failed, ${client.$channel.refusedStreamReplays} refused streams sent again, ${backends.totalPeers()} server-side connections`,
      );
      expect(failed).toEqual([]);
      // The servers closed connections under the calls (more connections than the client keeps).
      expect(backends.totalPeers()).toBeGreaterThan(client.$channel.stats().length);
    } finally {
      await client.close();
      await backends.shutdown();
    }
  });
});
