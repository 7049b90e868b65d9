import { type ChannelInterface, credentials, makeGenericClientConstructor } from "@grpc/grpc-js";
import { type Channel, createClient, createChannel as createNiceChannel } from "nice-grpc";
import { GreeterDefinition, HelloReply, HelloRequest } from "../generated/helloworld/helloworld.js";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { Feature, Rectangle, RouteGuideDefinition } from "../generated/routeguide/route_guide.js";
import { createRouteGuideClient } from "../generated/routeguide/route_guide_sdk.js";
import { createChannel } from "../src/create-channel.js";
import type { Strategy } from "../src/strategy.js";

/** One client under test: a unary call, a server stream counted in messages, and close. */
export interface BenchClient {
  name: string;
  unary(): Promise<unknown>;
  /** Reads a whole ListFeatures stream; resolves to the messages received. */
  stream(rectangle: Rectangle): Promise<number>;
  close(): void;
}

const encode =
  <T>(codec: { encode(m: T): { finish(): Uint8Array } }) =>
  (m: T) =>
    Buffer.from(codec.encode(m).finish());

/** grpc-js alone on one channel: the floor every wrapper is measured against. */
export function rawGrpcJs(target: string): BenchClient {
  const Client = makeGenericClientConstructor({}, "Bench");
  const client = new Client(target, credentials.createInsecure());
  return {
    name: "grpc-js, 1 channel",
    unary: () =>
      new Promise((resolve, reject) =>
        client.makeUnaryRequest(
          "/helloworld.Greeter/SayHello",
          encode(HelloRequest),
          HelloReply.decode,
          { name: "bench" },
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      ),
    stream: (rectangle) =>
      new Promise((resolve, reject) => {
        let count = 0;
        const call = client.makeServerStreamRequest(
          "/routeguide.RouteGuide/ListFeatures",
          encode(Rectangle),
          Feature.decode,
          rectangle,
        );
        call.on("data", () => count++);
        call.on("error", reject);
        call.on("end", () => resolve(count));
      }),
    close: () => client.close(),
  };
}

async function countStream(messages: AsyncIterable<unknown>): Promise<number> {
  let count = 0;
  for await (const _ of messages) count++;
  return count;
}

/** nice-grpc alone on one channel. */
export function plainNiceGrpc(target: string): BenchClient {
  const channel = createNiceChannel(target);
  const greeter = createClient(GreeterDefinition, channel);
  const routes = createClient(RouteGuideDefinition, channel);
  return {
    name: "nice-grpc, 1 channel",
    unary: () => greeter.sayHello({ name: "bench" }),
    stream: (rectangle) => countStream(routes.listFeatures(rectangle)),
    close: () => channel.close(),
  };
}

/** The SDK with its default middleware stack. */
export function sdk(target: string, name: string, strategy: Strategy): BenchClient {
  const greeter = createGreeterClient({ target, strategy });
  const routes = createRouteGuideClient({ target, strategy });
  return {
    name,
    unary: () => greeter.sayHello({ name: "bench" }),
    stream: (rectangle) => countStream(routes.listFeatures(rectangle)),
    close: () => (greeter.close(), routes.close()),
  };
}

/** The SDK's ChannelPool under a plain nice-grpc client: no middleware at all. */
export function sdkWithoutMiddleware(target: string, name: string, strategy: Strategy): BenchClient {
  const channel: ChannelInterface = createChannel(target, strategy);
  const greeter = createClient(GreeterDefinition, channel as unknown as Channel);
  const routes = createClient(RouteGuideDefinition, channel as unknown as Channel);
  return {
    name,
    unary: () => greeter.sayHello({ name: "bench" }),
    stream: (rectangle) => countStream(routes.listFeatures(rectangle)),
    close: () => channel.close(),
  };
}
