import { createClientFactory, type Channel, type Client, type CompatServiceDefinition } from "nice-grpc";
import type { ChannelPool } from "./channel-pool.js";
import { createChannel, type ChannelSettings } from "./create-channel.js";
import { InvalidOptionError } from "./errors.js";
import { resolveStrategy, type StrategyOptions } from "./strategy.js";

/** Options of every `create<Service>Client` factory and of {@link createServiceClient}. */
export type ClientOptions<_Service extends CompatServiceDefinition = CompatServiceDefinition> = ChannelSettings &
  StrategyOptions & {
    /**
     * Where the servers are: `host:port`, `dns:///host:port`,
     * `dns://dns-server:53/host:port`, `ipv4:a:p,b:p`, `ipv6:[a]:p`, `unix:path`.
     * Required; checked when the client is made.
     */
    target: string;
  };

/** What every generated client has besides its service's methods. */
export interface ClientControls {
  /**
   * Closes the client's connections. Calls already sent finish; calls still
   * waiting for a connection end with CANCELLED; later calls reject at once.
   * Once every client is closed the process can exit. Calling it again does nothing.
   */
  close(): void;
  /** The client's channel, for `stats()` and connectivity state. */
  readonly $channel: ChannelPool;
}

/** A typed nice-grpc client for `Service`, with {@link ClientControls}. */
export type SdkClient<Service extends CompatServiceDefinition> = Client<Service> & ClientControls;

const RESERVED = ["close", "$channel"];

/**
 * Creates a typed client for any nice-grpc service definition; the generated
 * `create<Service>Client` factories call this.
 */
export function createServiceClient<Service extends CompatServiceDefinition>(
  definition: Service,
  options: ClientOptions<Service>,
): SdkClient<Service> {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionError("options", options, "expected an object with at least a target");
  }
  checkMethodNames(definition);
  const channel = createChannel(options.target, resolveStrategy(options), options);
  // nice-grpc types its channel parameter as grpc-js's Channel class but only
  // ever calls createCall(), which ChannelPool implements.
  const client = createClientFactory().create(definition, channel as unknown as Channel) as SdkClient<Service>;
  Object.defineProperties(client, {
    close: { value: () => channel.close(), enumerable: false },
    $channel: { value: channel, enumerable: false },
  });
  return client;
}

function checkMethodNames(definition: CompatServiceDefinition): void {
  const methods = Object.keys(definition as object);
  const names = "methods" in definition && typeof definition.methods === "object" ? Object.keys(definition.methods as object) : methods;
  const clash = names.find((name) => RESERVED.includes(name));
  if (clash) {
    throw new InvalidOptionError("definition", clash, `expected no method named ${RESERVED.join(" or ")} (the client uses these names)`);
  }
}
