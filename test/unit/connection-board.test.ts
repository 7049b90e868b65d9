import { expect, test } from "vitest";
import { ConnectionBoard, type PoolEvents } from "../../src/balancer/connection-board.js";

test("a board in channel options survives JSON.stringify (grpc-js 1.14.0 writes the options so) even when what it holds is circular", () => {
  const events = { recycled: () => {}, ejected: () => {} } as PoolEvents & { self?: unknown };
  events.self = events;
  const options = new ConnectionBoard(events).asChannelOption();
  expect(() => JSON.stringify(options)).not.toThrow();
  expect(JSON.stringify(options)).toContain("balanced-grpc connection board");
});
