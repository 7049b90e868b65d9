// The public API of balanced-grpc.

export type { ChannelCredentials, ChannelOptions } from "@grpc/grpc-js";
// What the options and errors above are made of, so a project needs no
// direct dependency on grpc-js or nice-grpc (one copy of each: see the README).
export { connectivityState, credentials, ServerCredentials } from "@grpc/grpc-js";
export type { CompatServiceDefinition, ServiceImplementation } from "nice-grpc";
export type {
  CallContext,
  CallOptions,
  ClientMiddleware,
  ClientMiddlewareCall,
  MethodDescriptor,
  ServerMiddleware,
  ServerMiddlewareCall,
} from "nice-grpc-common";
export { ClientError, Metadata, ServerError, Status } from "nice-grpc-common";
export type { ConnectionStats } from "./balancer/connection.js";
export type {
  DeadlineOptions,
  RetryOptions,
  SdkCallOptions,
  WaitForReadyOptions,
} from "./call/call-options.js";
export type { BalancedChannel, ChannelPool, CloseOptions } from "./channel/balanced-channel.js";
export { createBalancedChannel, createChannel } from "./channel/create-balanced-channel.js";
export type { ClientControls, SdkClient } from "./client.js";
// Clients
export { createServiceClient } from "./client.js";
export type {
  ChannelSettings,
  ClientOptions,
  KeepaliveSettings,
  OutlierDetectionSettings,
  RetrySettings,
  SdkDefaultCallOptions,
  StrategyOptions,
} from "./client-options.js";
export { ClientClosedError, InvalidOptionError } from "./errors.js";
export type { DrainOptions, RunningServer, ServerOptions, ServiceRegistration, ShutdownOptions } from "./server.js";
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
} from "./strategy.js";
export { pickFirst, pool, roundRobin } from "./strategy.js";
export { validateTarget } from "./target.js";
