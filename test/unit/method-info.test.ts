import { describe, expect, test } from "vitest";
import { GreeterDefinition, HelloReply, HelloRequest } from "../../generated/helloworld/helloworld.js";
import { RouteGuideDefinition } from "../../generated/routeguide/route_guide.js";
import { abortReason } from "../../src/call/abort.js";
import { ResponseAsNext } from "../../src/call/as-next.js";
import { messageError, methodsOf } from "../../src/call/method.js";
import { decodeResponse } from "../../src/call/single-response.js";
import { InvalidOptionError } from "../../src/errors.js";

describe("methodsOf: what the engine knows of each method", () => {
  test("ts-proto's definition: names, paths, kinds, idempotency from the proto, the descriptor middleware sees", () => {
    const greeter = methodsOf(GreeterDefinition);
    expect(greeter.map((m) => [m.name, m.path, m.kind, m.idempotent])).toEqual([
      ["sayHello", "/helloworld.Greeter/SayHello", "unary", true],
    ]);
    expect(greeter[0]!.descriptor).toMatchObject({
      path: "/helloworld.Greeter/SayHello",
      requestStream: false,
      responseStream: false,
      options: { idempotencyLevel: "NO_SIDE_EFFECTS" },
    });
    const routes = methodsOf(RouteGuideDefinition);
    expect(routes.map((m) => [m.name, m.kind, m.idempotent])).toEqual([
      ["getFeature", "unary", false],
      ["listFeatures", "serverStreaming", false],
      ["recordRoute", "clientStreaming", false],
      ["routeChat", "bidiStreaming", false],
    ]);
    expect(routes[0]!.descriptor.options).toEqual({});
  });

  test("ts-proto's codec: partial requests are filled in, one writer serves every call", () => {
    const [sayHello] = methodsOf(GreeterDefinition);
    const bytes = sayHello!.serialize({ name: "a" });
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(HelloRequest.decode(bytes)).toEqual({ name: "a" });
    expect(HelloRequest.decode(sayHello!.serialize({}))).toEqual({ name: "" });
    expect(HelloRequest.decode(sayHello!.serialize({ name: "b" }))).toEqual({ name: "b" });
    expect(sayHello!.deserialize(Buffer.from(HelloReply.encode({ message: "m" }).finish()))).toEqual({ message: "m" });
  });

  test("grpc-js's form: the path and codec as given, idempotency from its options", () => {
    const definition = {
      get: {
        path: "/x.Store/Get",
        requestStream: false,
        responseStream: false,
        requestSerialize: (v: unknown) => new Uint8Array(Buffer.from(JSON.stringify(v))),
        responseDeserialize: (b: Uint8Array) => JSON.parse(Buffer.from(b).toString()),
        options: { idempotencyLevel: "IDEMPOTENT" },
      },
      put: {
        path: "/x.Store/Put",
        requestStream: true,
        responseStream: true,
        requestSerialize: (v: unknown) => Buffer.from(String(v)),
        responseDeserialize: (b: Uint8Array) => b,
      },
    };
    const [get, put] = methodsOf(definition as never);
    expect([get!.name, get!.path, get!.kind, get!.idempotent]).toEqual(["get", "/x.Store/Get", "unary", true]);
    expect([put!.name, put!.path, put!.kind, put!.idempotent]).toEqual(["put", "/x.Store/Put", "bidiStreaming", false]);
    const bytes = get!.serialize({ a: 1 });
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes.toString()).toBe('{"a":1}');
    expect(get!.deserialize(Buffer.from('{"b":2}'))).toEqual({ b: 2 });
    const buffer = Buffer.from("x");
    expect(put!.serialize("x")).toEqual(buffer);
  });

  test("a method the client cannot carry under its name is refused", () => {
    const definition = {
      // biome-ignore lint/suspicious/noThenProperty: a method named then is what this test refuses
      then: { path: "/x.S/Then", requestStream: false, responseStream: false },
    };
    expect(() => methodsOf(definition as never)).toThrow(InvalidOptionError);
    expect(() => methodsOf(definition as never)).toThrow(/then_/);
  });

  test("message errors are INTERNAL, worded as grpc-js words them", () => {
    expect(messageError("/p/M", "request", new Error("bad"))).toMatchObject({
      code: 13,
      details: "Request message serialization failure: Error: bad",
    });
    expect(messageError("/p/M", "response", "x")).toMatchObject({
      code: 13,
      details: "Response message parsing error: x",
    });
  });

  test("decodeResponse: no message is INTERNAL; a message that cannot be parsed is INTERNAL naming the parse error", () => {
    const [sayHello] = methodsOf(GreeterDefinition);
    expect(decodeResponse(sayHello!, undefined).error).toMatchObject({ code: 13, details: "No message received" });
    expect(decodeResponse(sayHello!, Buffer.from([0xff, 0xff, 0xff])).error).toMatchObject({
      code: 13,
      details: expect.stringMatching(/^Response message parsing error: /),
    });
    expect(decodeResponse(sayHello!, Buffer.from(HelloReply.encode({ message: "ok" }).finish()))).toEqual({
      value: { message: "ok" },
    });
  });
});

describe("small pieces", () => {
  test("an aborted call rejects with the signal's reason, or an AbortError", () => {
    const controller = new AbortController();
    controller.abort();
    const reason = abortReason(controller.signal) as DOMException;
    expect(reason.name).toBe("AbortError");
    const given = new AbortController();
    given.abort(new Error("mine"));
    expect(abortReason(given.signal)).toEqual(new Error("mine"));
    const bare = { reason: undefined } as unknown as AbortSignal;
    const made = abortReason(bare) as DOMException;
    expect(made.name).toBe("AbortError");
    expect(made.message).toBe("The operation has been aborted");
  });

  test("ResponseAsNext: next() returns the response once, then is done; return() and throw() finish it", async () => {
    const next = new ResponseAsNext(() => Promise.resolve("reply"));
    expect(next[Symbol.asyncIterator]()).toBe(next);
    await expect(next.next()).resolves.toEqual({ done: true, value: "reply" });
    await expect(next.next()).resolves.toEqual({ done: true, value: undefined });
    let called = 0;
    const early = new ResponseAsNext(() => {
      called++;
      return Promise.resolve("never");
    });
    await expect(early.return("r")).resolves.toEqual({ done: true, value: "r" });
    await expect(early.next()).resolves.toEqual({ done: true, value: undefined });
    expect(called).toBe(0);
    const thrown = new ResponseAsNext(() => Promise.resolve("never"));
    await expect(thrown.throw(new Error("x"))).rejects.toThrow("x");
    await expect(thrown.next()).resolves.toEqual({ done: true, value: undefined });
    await expect(thrown[Symbol.asyncDispose]()).resolves.toBeUndefined();
  });
});
