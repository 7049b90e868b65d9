import { connectivityState as State } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { BalancedChannel } from "../../src/channel/balanced-channel.js";
import { resolveChannelSettings } from "../../src/channel/channel-settings.js";
import { createBalancedChannel, openChannel } from "../../src/channel/create-balanced-channel.js";
import { InvalidOptionError } from "../../src/errors.js";
import { pool, roundRobin } from "../../src/strategy.js";

// A channel made, not connected: grpc-js connects only when asked.

describe("createBalancedChannel", () => {
  test("a BalancedChannel for the target, idle until asked, no connections yet", async () => {
    const channel = createBalancedChannel("127.0.0.1:1", pool(2));
    expect(channel).toBeInstanceOf(BalancedChannel);
    expect(channel.getTarget()).toBe("127.0.0.1:1");
    expect(channel.getConnectivityState(false)).toBe(State.IDLE);
    expect(channel.stats()).toEqual([]);
    await channel.close();
    expect(channel.closed).toBe(true);
  });

  test("pickFirst() when no strategy is given; settings are checked", async () => {
    const channel = createBalancedChannel("127.0.0.1:1");
    await channel.close();
    expect(() => createBalancedChannel("", roundRobin())).toThrow(InvalidOptionError);
    expect(() => createBalancedChannel("127.0.0.1:1", roundRobin(), { maxConnectionAge: 5 })).toThrow(
      /maxConnectionAge/,
    );
  });

  test("with outlier detection the strategy's policy is its child; both configs parse", async () => {
    const settings = resolveChannelSettings("127.0.0.1:1", roundRobin(), {
      outlierDetection: true,
      maxConnectionAge: 5_000,
    });
    const channel = openChannel(settings);
    expect(channel.getConnectivityState(true)).not.toBe(State.SHUTDOWN);
    await channel.close();
  });
});
