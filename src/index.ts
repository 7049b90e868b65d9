// The public API of balanced-grpc, and nothing else.

export type { ChannelCredentials, ChannelOptions } from "@grpc/grpc-js";
// grpc-js and nice-grpc types that appear in the options above
export { connectivityState, credentials, ServerCredentials } from "@grpc/grpc-js";
export type { CallContext, CallOptions, ClientMiddleware, ClientMiddlewareCall } from "nice-grpc";
export { ClientError, Metadata, ServerError, Status } from "nice-grpc";
export type { GreeterServiceImplementation } from "../generated/helloworld/helloworld.js";
export { GreeterDefinition, HelloReply, HelloRequest } from "../generated/helloworld/helloworld.js";
export type { GreeterSdkClient } from "../generated/helloworld/helloworld_sdk.js";
// Generated: helloworld.Greeter
export { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
export type { RouteGuideServiceImplementation } from "../generated/routeguide/route_guide.js";
export {
  Feature,
  Point,
  Rectangle,
  RouteGuideDefinition,
  RouteNote,
  RouteSummary,
} from "../generated/routeguide/route_guide.js";
export type { RouteGuideSdkClient } from "../generated/routeguide/route_guide_sdk.js";
// Generated: routeguide.RouteGuide
export { createRouteGuideClient } from "../generated/routeguide/route_guide_sdk.js";
export type { GreeterServiceOptions } from "../harness/reference/greeter.js";
export { BACKEND_HEADER, backendOf, greeterImplementation, greeterService } from "../harness/reference/greeter.js";
export { routeGuideImplementation, routeGuideService } from "../harness/reference/route-guide.js";
export { ROUTE_GUIDE_FEATURES } from "../harness/reference/route-guide-features.js";
export type { SdkCallOptions, WaitForReadyOptions } from "./call-options.js";
export type { MemberStats } from "./channel-pool.js";
export { ChannelPool } from "./channel-pool.js";
export type { ClientControls, ClientOptions, RetrySettings, SdkClient, SdkDefaultCallOptions } from "./client.js";
// Clients
export { createServiceClient } from "./client.js";
export type { ChannelSettings, KeepaliveSettings } from "./create-channel.js";
export { createChannel } from "./create-channel.js";
export { ClientClosedError, InvalidOptionError } from "./errors.js";
export type { RunningServer, ServerOptions, ServiceRegistration } from "./server.js";
// Servers
export { service, startServer } from "./server.js";
export type {
  PickFirstStrategy,
  PickPolicy,
  PoolOptions,
  PoolStrategy,
  RoundRobinStrategy,
  Strategy,
  StrategyName,
  StrategyOptions,
} from "./strategy.js";
export { pickFirst, pool, roundRobin } from "./strategy.js";
export { validateTarget } from "./target.js";
