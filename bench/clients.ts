import { once } from "node:events";
import {
  Channel,
  type ChannelOptions,
  type Client,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  status,
} from "@grpc/grpc-js";
import type { ClientMiddleware, Strategy } from "balanced-grpc";
import { createChannel, createClient } from "nice-grpc";
import { GreeterDefinition, HelloReply, HelloRequest } from "../generated/helloworld/helloworld.js";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { Feature, Point, Rectangle, RouteNote, RouteSummary } from "../generated/routeguide/route_guide.js";
import { createRouteGuideClient } from "../generated/routeguide/route_guide_sdk.js";

/** One client under test. Streaming methods resolve to the messages they moved. */
export interface BenchClient {
  name: string;
  unary(): Promise<unknown>;
  /** ListFeatures: reads a whole server stream. */
  serverStream(): Promise<number>;
  /** RecordRoute: sends `count` points. */
  clientStream(count: number): Promise<number>;
  /** RouteChat: sends `count` notes, reads their `count` echoes. */
  bidi(count: number): Promise<number>;
  /** Connections serving unary calls now (SDK clients). */
  connections?(): number;
  close(): void;
}

/** Per-call options of a variant: a deadline on every call, or none. */
export interface Variant {
  label: string;
  deadlineMs?: number;
  middleware?: boolean;
  /** SDK clients: health checking off (it is on by default). */
  noHealthCheck?: boolean;
}

const RECTANGLE: Rectangle = {
  lo: { latitude: 390_000_000, longitude: -760_000_000 },
  hi: { latitude: 410_000_000, longitude: -730_000_000 },
};
const POINT: Point = { latitude: 409_146_138, longitude: -746_188_906 };
const NOTE: RouteNote = { location: POINT, message: "bench" };
const toBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const codec = <T>(type: { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T }) => ({
  serialize: (m: T) => toBuffer(type.encode(m).finish()),
  deserialize: (b: Buffer) => type.decode(b),
});
const hello = codec(HelloRequest);
const reply = codec(HelloReply);
const rectangle = codec(Rectangle);
const feature = codec(Feature);
const point = codec(Point);
const summary = codec(RouteSummary);
const note = codec(RouteNote);

/** The grpc-js channel options that give raw grpc-js the same load balancing as a strategy. */
function rawChannels(strategy: Strategy): { count: number; options: ChannelOptions } {
  if (strategy.kind === "pickFirst") return { count: 1, options: {} };
  const options = {
    "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    // Distinct connections per channel, as the SDK's pool has.
    "grpc.use_local_subchannel_pool": 1,
  };
  // An adaptive pool has no raw counterpart of its size: compare it with one channel, as it starts.
  return { count: strategy.kind === "pool" ? (strategy.size ?? 1) : 1, options };
}

/**
 * grpc-js's own generic client with the same load balancing and connection
 * count as the strategy: one channel for pickFirst/roundRobin; for pool(n), n
 * channels (each its own connections), taken in turn.
 */
export function rawGrpcJs(target: string, strategy: Strategy, name: string, variant: Variant): BenchClient {
  const { count, options } = rawChannels(strategy);
  const Constructor = makeGenericClientConstructor({}, "Bench");
  const clients: Client[] = Array.from(
    { length: count },
    () => new Constructor(target, credentials.createInsecure(), options),
  );
  let next = 0;
  const pick = () => clients[next++ % count]!;
  const callOptions = () => (variant.deadlineMs ? { deadline: Date.now() + variant.deadlineMs } : {});
  return {
    name,
    unary: () =>
      new Promise((resolve, reject) =>
        pick().makeUnaryRequest(
          "/helloworld.Greeter/SayHello",
          hello.serialize,
          reply.deserialize,
          { name: "bench" },
          new Metadata(),
          callOptions(),
          (error, value) => (error ? reject(error) : resolve(value)),
        ),
      ),
    serverStream: () =>
      new Promise((resolve, reject) => {
        let messages = 0;
        const call = pick().makeServerStreamRequest(
          "/routeguide.RouteGuide/ListFeatures",
          rectangle.serialize,
          feature.deserialize,
          RECTANGLE,
          new Metadata(),
          callOptions(),
        );
        call.on("data", () => messages++);
        call.on("error", reject);
        call.on("end", () => resolve(messages));
      }),
    clientStream: async (messages) => {
      let done!: Promise<unknown>;
      const call = (() => {
        let settle!: { resolve(v: unknown): void; reject(e: unknown): void };
        done = new Promise((resolve, reject) => (settle = { resolve, reject }));
        return pick().makeClientStreamRequest(
          "/routeguide.RouteGuide/RecordRoute",
          point.serialize,
          summary.deserialize,
          new Metadata(),
          callOptions(),
          (error, value) => (error ? settle.reject(error) : settle.resolve(value)),
        );
      })();
      for (let i = 0; i < messages; i++) if (!call.write(POINT)) await once(call, "drain");
      call.end();
      await done;
      return messages;
    },
    bidi: async (messages) => {
      const call = pick().makeBidiStreamRequest(
        "/routeguide.RouteGuide/RouteChat",
        note.serialize,
        note.deserialize,
        new Metadata(),
        callOptions(),
      );
      let received = 0;
      const ended = new Promise<void>((resolve, reject) => {
        call.on("data", () => received++);
        call.on("error", reject);
        call.on("end", resolve);
      });
      for (let i = 0; i < messages; i++) if (!call.write(NOTE)) await once(call, "drain");
      call.end();
      await ended;
      return received;
    },
    close: () => {
      for (const c of clients) c.close();
    },
  };
}

/**
 * A unary call straight on grpc-js's `Channel.createCall` (start, send,
 * half-close, read): the floor under every client, grpc-js's own included.
 */
export function bareCall(target: string): Pick<BenchClient, "name" | "unary" | "close"> {
  const channel = new Channel(target, credentials.createInsecure(), {});
  const request = hello.serialize({ name: "bench" });
  return {
    name: "bare channel.createCall, pickFirst",
    unary: () =>
      new Promise((resolve, reject) => {
        const call = channel.createCall("/helloworld.Greeter/SayHello", Infinity, null, null, 0);
        let response: Buffer | undefined;
        call.start(new Metadata(), {
          onReceiveMetadata: () => {},
          onReceiveMessage: (message: Buffer) => {
            response = message;
          },
          onReceiveStatus: (s) => (s.code === status.OK ? resolve(reply.deserialize(response!)) : reject(s)),
        });
        call.sendMessageWithContext({}, request);
        call.halfClose();
        call.startRead();
      }),
    close: () => channel.close(),
  };
}

/** nice-grpc alone on one grpc-js channel. */
export function plainNiceGrpc(target: string): Pick<BenchClient, "name" | "unary" | "close"> {
  const channel = createChannel(target);
  const greeter = createClient(GreeterDefinition, channel);
  return {
    name: "nice-grpc, pickFirst",
    unary: () => greeter.sayHello({ name: "bench" }),
    close: () => channel.close(),
  };
}

/** A middleware that only passes the call on: the cost of the middleware protocol itself. */
const passThrough: ClientMiddleware = async function* passThrough(call, options) {
  return yield* call.next(call.request, options);
};

async function* points(count: number): AsyncIterable<Point> {
  for (let i = 0; i < count; i++) yield POINT;
}
async function* notes(count: number): AsyncIterable<RouteNote> {
  for (let i = 0; i < count; i++) yield NOTE;
}

/** The SDK's generated clients, with a variant's deadline or middleware. */
export function sdk(target: string, strategy: Strategy, name: string, variant: Variant): BenchClient {
  const options = {
    target,
    strategy,
    ...(variant.middleware ? { middleware: [passThrough] } : {}),
    ...(variant.noHealthCheck ? { healthCheck: false as const } : {}),
  };
  const greeter = createGreeterClient(options);
  const routes = createRouteGuideClient(options);
  const callOptions = variant.deadlineMs ? { deadline: variant.deadlineMs } : undefined;
  return {
    name,
    unary: () => greeter.sayHello({ name: "bench" }, callOptions),
    serverStream: async () => {
      let messages = 0;
      for await (const _ of routes.listFeatures(RECTANGLE, callOptions)) messages++;
      return messages;
    },
    clientStream: async (count) => {
      await routes.recordRoute(points(count), callOptions);
      return count;
    },
    bidi: async (count) => {
      let received = 0;
      for await (const _ of routes.routeChat(notes(count), callOptions)) received++;
      return received;
    },
    connections: () => greeter.$channel.stats().filter((c) => c.role === "serving").length,
    close: () => {
      greeter.close();
      routes.close();
    },
  };
}
