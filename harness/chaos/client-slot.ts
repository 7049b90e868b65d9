import type { CloseOptions } from "balanced-grpc";
import { createGreeterClient, type GreeterSdkClient } from "../../generated/helloworld/helloworld_sdk.js";
import { createRouteGuideClient, type RouteGuideSdkClient } from "../../generated/routeguide/route_guide_sdk.js";
import { type ClientConfig, clientOptions } from "./client-config.js";
import { now } from "./clock.js";
import type { WatchedClient } from "./watchdog.js";

/**
 * One client of the soak: a Greeter and a RouteGuide client made with the
 * same settings (as an application would make one per service), closed together.
 */
export class ClientSlot implements WatchedClient {
  readonly id: string;
  readonly greeter: GreeterSdkClient;
  readonly routes: RouteGuideSdkClient;
  readonly createdAt = now();
  closeAt?: number;
  graceMs?: number | undefined;
  closedAt?: number;

  constructor(
    readonly config: ClientConfig,
    target: string,
  ) {
    this.id = config.id;
    const options = clientOptions(config, target);
    this.greeter = createGreeterClient(options);
    this.routes = createRouteGuideClient(options);
  }

  get closing(): boolean {
    return this.closeAt !== undefined;
  }

  /** Closes both clients (with `graceMs` if given); resolves when both close() resolved. */
  async close(graceMs: number | undefined): Promise<void> {
    this.closeAt = now();
    this.graceMs = graceMs;
    const options: CloseOptions | undefined = graceMs === undefined ? undefined : { graceMs };
    await Promise.all([this.greeter.close(options), this.routes.close(options)]);
    this.closedAt = now();
  }

  /** Calls its channels sent again because a server refused their stream unprocessed. */
  get refusedStreamReplays(): number {
    return this.greeter.$channel.refusedStreamReplays + this.routes.$channel.refusedStreamReplays;
  }
}
