// The public API of balanced-grpc, and nothing else.

// Clients
export { createServiceClient } from "./client.js";
export type { ClientOptions, ClientControls, SdkClient, SdkDefaultCallOptions, RetrySettings } from "./client.js";
export type { SdkCallOptions, WaitForReadyOptions } from "./call-options.js";
export { pickFirst, roundRobin, pool } from "./strategy.js";
export type {
  Strategy,
  StrategyName,
  StrategyOptions,
  PickFirstStrategy,
  RoundRobinStrategy,
  PoolStrategy,
  PoolOptions,
  PickPolicy,
} from "./strategy.js";
export { createChannel } from "./create-channel.js";
export type { ChannelSettings, KeepaliveSettings } from "./create-channel.js";
export { ChannelPool } from "./channel-pool.js";
export type { MemberStats } from "./channel-pool.js";
export { validateTarget } from "./target.js";
export { InvalidOptionError, ClientClosedError } from "./errors.js";

// Servers
export { startServer, service } from "./server.js";
export type { ServerOptions, RunningServer, ServiceRegistration } from "./server.js";
export { greeterService, greeterImplementation, backendOf, BACKEND_HEADER } from "../harness/reference/greeter.js";
export type { GreeterServiceOptions } from "../harness/reference/greeter.js";
export { routeGuideService, routeGuideImplementation } from "../harness/reference/route-guide.js";
export { ROUTE_GUIDE_FEATURES } from "../harness/reference/route-guide-features.js";

// Generated: helloworld.Greeter
export { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
export type { GreeterSdkClient } from "../generated/helloworld/helloworld_sdk.js";
export { GreeterDefinition, HelloRequest, HelloReply } from "../generated/helloworld/helloworld.js";
export type { GreeterServiceImplementation } from "../generated/helloworld/helloworld.js";

// Generated: routeguide.RouteGuide
export { createRouteGuideClient } from "../generated/routeguide/route_guide_sdk.js";
export type { RouteGuideSdkClient } from "../generated/routeguide/route_guide_sdk.js";
export { RouteGuideDefinition, Point, Rectangle, Feature, RouteNote, RouteSummary } from "../generated/routeguide/route_guide.js";
export type { RouteGuideServiceImplementation } from "../generated/routeguide/route_guide.js";

// grpc-js and nice-grpc types that appear in the options above
export { credentials, ServerCredentials, connectivityState } from "@grpc/grpc-js";
export type { ChannelCredentials, ChannelOptions } from "@grpc/grpc-js";
export { Metadata, Status, ClientError, ServerError } from "nice-grpc";
export type { CallOptions, CallContext, ClientMiddleware, ClientMiddlewareCall } from "nice-grpc";
