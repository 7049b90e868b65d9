import { pool, type Strategy } from "balanced-grpc";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { type Backends, spawnBackends } from "../../harness/backend-group.js";
import type { BackendProcess } from "../../harness/backend-process.js";
import { runCalls } from "../../harness/load.js";
import { hasNginx, type NginxProxy, startNginx } from "../../harness/nginx.js";
import { strategies } from "../../harness/strategies.js";

// Behind nginx as an L7 gRPC proxy that closes each client connection after
// 50 requests (GOAWAY; streams already on their way are refused): a refused
// stream never reached a server, so replaying it is always safe, and none
// may fail. CI installs nginx (.ci/run); without it these tests are skipped.
const nginx = await hasNginx();
let backends: Backends<BackendProcess>;
let proxy: NginxProxy;
beforeAll(async () => {
  if (!nginx) return;
  backends = await spawnBackends(3);
  proxy = await startNginx(backends.addresses, { keepaliveRequests: 50 });
});
afterAll(async () => {
  await proxy?.stop();
  await Promise.all(backends?.list.map((b) => b.kill()) ?? []);
});

const rows: [string, Strategy][] = [...strategies(4), ["pool()", pool()]];
describe.skipIf(!nginx).each(rows)("nginx closing every connection after 50 requests, %s", (_name, strategy) => {
  // Before refused streams were replayed until a connection took them, over 2,000 of these failed.
  test("3,000 calls at c=200, retries off: none fails, and refused streams were sent again", async () => {
    const client = createGreeterClient({ target: proxy.address, strategy, retry: false });
    try {
      const { failed } = await runCalls(3_000, 200, () => client.sayHello({ name: "through nginx" }));
      expect(failed).toEqual([]);
      expect(client.$channel.refusedStreamReplays).toBeGreaterThan(0); // the proxy did refuse streams
    } finally {
      await client.close();
    }
  });
});
