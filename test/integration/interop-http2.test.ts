// gRPC's interop test cases (grpc/grpc doc/interop-test-descriptions.md, as
// grpc-go's interop/test_utils.go client runs them) against grpc-go's interop
// server (harness/go/interop, Debian's grpc-go 1.33), on both transports: the
// SDK's own HTTP/2 transport must pass every case grpc-js passes.
//
// Not run: client_compressed_unary and client_compressed_streaming (the
// http2 transport never compresses requests: docs/transport.md), the auth
// cases (compute_engine_creds, jwt_token_creds, oauth2_auth_token,
// per_rpc_creds, google_default_credentials: Google credentials),
// cacheable_unary (a caching proxy), pick_first_unary and the ORCA, RLS and
// xDS cases (a load balancer's or control plane's cases, not a server's),
// rpc_soak and channel_soak (long loads). server_compressed_unary and
// server_compressed_streaming run with one change: grpc-go 1.33 cannot
// compress some responses of a call and not others, so the compressed halves
// run on a second server that compresses every response (-compress gzip) and
// the uncompressed halves on the plain one; whether a message arrived
// compressed is not visible through the client's API (grpc-js hides it too),
// but a compressed message the client could not inflate would fail the call.
import { ClientError, Metadata, Status, type TransportName } from "balanced-grpc";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BenchServer, buildGoServer, startGoServer } from "../../harness/go-server.js";
import type {
  StreamingOutputCallRequest,
  StreamingOutputCallResponse,
} from "../interop/generated/grpc/testing/messages.js";
import {
  createTestServiceClient,
  createUnimplementedServiceClient,
  type TestServiceSdkClient,
} from "../interop/generated/grpc/testing/test_sdk.js";

const go = await buildGoServer("interop");
let plain: BenchServer | undefined;
let gzip: BenchServer | undefined;
beforeAll(async () => {
  if (!go.binary) return;
  [plain, gzip] = await Promise.all([startGoServer(go.binary), startGoServer(go.binary, ["-compress", "gzip"])]);
});
afterAll(async () => {
  await plain?.stop();
  await gzip?.stop();
});

/** A request as the client takes it (ts-proto's DeepPartial: every field optional). */
type OutputRequest = Parameters<typeof StreamingOutputCallRequest.fromPartial>[0];
const payload = (size: number) => ({ body: new Uint8Array(size) });
/** A payload body as the cases check it: its size, and that every byte is 0 (what the server sends). */
const shape = (body: Uint8Array | undefined) =>
  body && { size: body.length, nonZero: body.filter((b) => b !== 0).length };
const zeros = (size: number) => ({ size, nonZero: 0 });
const REQUEST_SIZES = [27_182, 8, 1_828, 45_904];
const RESPONSE_SIZES = [31_415, 9, 2_653, 58_979];
const ECHO_INITIAL = "x-grpc-test-echo-initial";
const ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";
const SPECIAL_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";

/** The error a call rejects with, or a failure if it did not. */
async function failure(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error("the call succeeded");
}

/** Consumes a response stream, counting its messages. */
async function drain(responses: AsyncIterable<unknown>): Promise<number> {
  let count = 0;
  for await (const _ of responses) count++;
  return count;
}

async function* yieldAll<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

/** A request stream the test feeds one message at a time, for ping-pong. */
function requestQueue<T>() {
  const waiting: ((item: T | undefined) => void)[] = [];
  const queued: (T | undefined)[] = [];
  const push = (item: T | undefined) => {
    const take = waiting.shift();
    if (take) take(item);
    else queued.push(item);
  };
  async function* stream(): AsyncIterable<T> {
    for (;;) {
      const item = queued.length > 0 ? queued.shift() : await new Promise<T | undefined>((r) => waiting.push(r));
      if (item === undefined) return;
      yield item;
    }
  }
  return { stream: stream(), send: (item: T) => push(item), end: () => push(undefined) };
}

const TRANSPORTS: TransportName[] = ["grpc-js", "http2"];

describe.skipIf(!go.binary)(`grpc-go's interop server${go.reason ? ` (skipped: ${go.reason})` : ""}`, () => {
  describe.each(TRANSPORTS)("on %s", (transport) => {
    let client: TestServiceSdkClient;
    let compressing: TestServiceSdkClient;
    beforeAll(() => {
      client = createTestServiceClient({ target: plain!.address, transport, retry: false });
      compressing = createTestServiceClient({ target: gzip!.address, transport, retry: false });
    });
    afterAll(async () => {
      await client.close();
      await compressing.close();
    });

    test("empty_unary", async () => {
      expect(await client.emptyCall({})).toEqual({});
    });

    test("large_unary", async () => {
      const response = await client.unaryCall({ responseSize: 314_159, payload: payload(271_828) });
      expect(shape(response.payload?.body)).toEqual(zeros(314_159));
    });

    test("client_streaming", async () => {
      const response = await client.streamingInputCall(
        yieldAll(REQUEST_SIZES.map((size) => ({ payload: payload(size) }))),
      );
      expect(response.aggregatedPayloadSize).toBe(74_922);
    });

    test("server_streaming", async () => {
      const sizes: number[] = [];
      for await (const response of client.streamingOutputCall({
        responseParameters: RESPONSE_SIZES.map((size) => ({ size })),
      }))
        sizes.push(response.payload!.body.length);
      expect(sizes).toEqual(RESPONSE_SIZES);
    });

    test("ping_pong", async () => {
      const requests = requestQueue<OutputRequest>();
      const responses = client.fullDuplexCall(requests.stream)[Symbol.asyncIterator]();
      for (const [i, size] of RESPONSE_SIZES.entries()) {
        requests.send({ responseParameters: [{ size, intervalUs: 0 }], payload: payload(REQUEST_SIZES[i]!) });
        const next = await responses.next();
        expect(next.done).toBe(false);
        expect((next.value as StreamingOutputCallResponse).payload!.body.length).toBe(size);
      }
      requests.end();
      expect((await responses.next()).done).toBe(true);
    });

    test("empty_stream", async () => {
      expect(await drain(client.fullDuplexCall(yieldAll([])))).toBe(0);
    });

    test("half_duplex (HalfDuplexCall: every request, then every response)", async () => {
      const sizes: number[] = [];
      for await (const response of client.halfDuplexCall(
        yieldAll(RESPONSE_SIZES.map((size) => ({ responseParameters: [{ size }] }))),
      ))
        sizes.push(response.payload!.body.length);
      expect(sizes).toEqual(RESPONSE_SIZES);
    });

    test("status_code_and_message", async () => {
      const responseStatus = { code: 2, message: "test status message" };
      const unary = await failure(() => client.unaryCall({ responseStatus }));
      expect(unary).toBeInstanceOf(ClientError);
      expect(unary).toMatchObject({ code: Status.UNKNOWN, details: "test status message" });
      const duplex = await failure(() => drain(client.fullDuplexCall(yieldAll([{ responseStatus }]))));
      expect(duplex).toBeInstanceOf(ClientError);
      expect(duplex).toMatchObject({ code: Status.UNKNOWN, details: "test status message" });
    });

    test("special_status_message", async () => {
      const error = await failure(() => client.unaryCall({ responseStatus: { code: 2, message: SPECIAL_MESSAGE } }));
      expect(error).toBeInstanceOf(ClientError);
      expect(error).toMatchObject({ code: Status.UNKNOWN, details: SPECIAL_MESSAGE });
    });

    test("custom_metadata", async () => {
      const trailing = Uint8Array.of(0xab, 0xab, 0xab);
      const metadata = () => Metadata({ [ECHO_INITIAL]: "test_initial_metadata_value", [ECHO_TRAILING]: trailing });
      const seen = () => {
        const received: { header?: Metadata; trailer?: Metadata } = {};
        const options = {
          metadata: metadata(),
          onHeader: (header: Metadata) => {
            received.header = header;
          },
          onTrailer: (trailer: Metadata) => {
            received.trailer = trailer;
          },
        };
        return { received, options };
      };
      const unary = seen();
      const response = await client.unaryCall({ responseSize: 314_159, payload: payload(271_828) }, unary.options);
      expect(response.payload?.body.length).toBe(314_159);
      const duplex = seen();
      const count = await drain(
        client.fullDuplexCall(
          yieldAll([{ responseParameters: [{ size: 314_159 }], payload: payload(271_828) }]),
          duplex.options,
        ),
      );
      expect(count).toBe(1);
      for (const { received } of [unary, duplex]) {
        expect(received.header?.get(ECHO_INITIAL)).toBe("test_initial_metadata_value");
        expect(new Uint8Array(received.trailer?.get(ECHO_TRAILING) as Uint8Array)).toEqual(trailing);
      }
    });

    test("unimplemented_method", async () => {
      const error = await failure(() => client.unimplementedCall({}));
      expect(error).toBeInstanceOf(ClientError);
      expect(error).toMatchObject({ code: Status.UNIMPLEMENTED });
    });

    test("unimplemented_service", async () => {
      const unimplemented = createUnimplementedServiceClient({ target: plain!.address, transport, retry: false });
      try {
        const error = await failure(() => unimplemented.unimplementedCall({}));
        expect(error).toBeInstanceOf(ClientError);
        expect(error).toMatchObject({ code: Status.UNIMPLEMENTED });
      } finally {
        await unimplemented.close();
      }
    });

    test("timeout_on_sleeping_server", async () => {
      // The deadline may pass before the request is even sent: the case allows either.
      const error = await failure(() =>
        drain(
          client.fullDuplexCall(yieldAll([{ responseParameters: [{ size: 31_415 }], payload: payload(27_182) }]), {
            deadline: 1,
          }),
        ),
      );
      expect(error).toBeInstanceOf(ClientError);
      expect(error).toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    });

    test("cancel_after_begin", async () => {
      const controller = new AbortController();
      // A request stream that sends nothing: the call is cancelled right after it begins.
      const requests = requestQueue<never>();
      const call = client.streamingInputCall(requests.stream, { signal: controller.signal });
      controller.abort();
      // nice-grpc's surface for a call its caller cancelled (gRPC's CANCELLED).
      await expect(call).rejects.toMatchObject({ name: "AbortError" });
      requests.end();
    });

    test("cancel_after_first_response", async () => {
      const controller = new AbortController();
      const requests = requestQueue<OutputRequest>();
      const responses = client.fullDuplexCall(requests.stream, { signal: controller.signal })[Symbol.asyncIterator]();
      requests.send({ responseParameters: [{ size: 31_415 }], payload: payload(27_182) });
      const first = await responses.next();
      expect((first.value as StreamingOutputCallResponse).payload!.body.length).toBe(31_415);
      controller.abort();
      await expect(responses.next()).rejects.toMatchObject({ name: "AbortError" });
      requests.end();
    });

    test("server_compressed_unary (compressed on the -compress gzip server, not on the plain one)", async () => {
      const compressed = await compressing.unaryCall({
        responseCompressed: { value: true },
        responseSize: 314_159,
        payload: payload(271_828),
      });
      expect(shape(compressed.payload?.body)).toEqual(zeros(314_159));
      const uncompressed = await client.unaryCall({
        responseCompressed: { value: false },
        responseSize: 314_159,
        payload: payload(271_828),
      });
      expect(shape(uncompressed.payload?.body)).toEqual(zeros(314_159));
    });

    test("server_compressed_streaming (compressed on the -compress gzip server, not on the plain one)", async () => {
      for (const [server, value] of [
        [compressing, true],
        [client, false],
      ] as const) {
        const bodies: ReturnType<typeof shape>[] = [];
        for await (const response of server.streamingOutputCall({
          responseParameters: [
            { compressed: { value }, size: 31_415 },
            { compressed: { value }, size: 92_653 },
          ],
        }))
          bodies.push(shape(response.payload?.body));
        expect(bodies).toEqual([zeros(31_415), zeros(92_653)]);
      }
    });

    test("the servers refuse a compression they do not do (the checks above are real)", async () => {
      const error = await failure(() => client.unaryCall({ responseCompressed: { value: true }, responseSize: 1 }));
      expect(error).toMatchObject({ code: Status.INVALID_ARGUMENT });
      const other = await failure(() =>
        compressing.unaryCall({ responseCompressed: { value: false }, responseSize: 1 }),
      );
      expect(other).toMatchObject({ code: Status.INVALID_ARGUMENT });
    });
  });
});
