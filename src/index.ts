/**
 * Typed gRPC clients for Node.js that choose how they spread calls over
 * servers: `pickFirst()`, `roundRobin()`, or a pool of connections per
 * address (`pool()`), made by `createServiceClient`; and `startServer` for
 * nice-grpc services. The public API of balanced-grpc, on record in
 * etc/balanced-grpc.api.md.
 *
 * @packageDocumentation
 */

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
export type { HealthSource } from "./balancer/health-watch.js";
export type { StreamLimitSource } from "./balancer/stream-limit.js";
export type {
  DeadlineOptions,
  HedgeOptions,
  HedgingOptions,
  RetryOptions,
  SdkCallOptions,
  WaitForReadyOptions,
} from "./call/call-options.js";
export type { BalancedChannel, CloseOptions } from "./channel/balanced-channel.js";
export { createBalancedChannel } from "./channel/create-balanced-channel.js";
export type { ClientControls, SdkClient } from "./client.js";
// Clients
export { createServiceClient } from "./client.js";
export type {
  ChannelSettings,
  ClientOptions,
  FailureAccrualSettings,
  HealthCheckSettings,
  KeepaliveSettings,
  OutlierDetectionSettings,
  RetryBudgetSettings,
  RetrySettings,
  SdkDefaultCallOptions,
  StrategyOptions,
} from "./client-options.js";
export type { CallCallbackName } from "./errors.js";
export { CallbackError, ClientClosedError, InvalidOptionError } from "./errors.js";
export type { DrainOptions, RunningServer, ServerOptions, ServiceRegistration, ShutdownOptions } from "./server.js";
// Servers
export { service, startServer } from "./server.js";
export type {
  AdaptivePoolOptions,
  AdaptivePoolStrategy,
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
export type { TransportName } from "./transport/transport-option.js";
