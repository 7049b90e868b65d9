/*
 * `service(definition, implementation)` and the checks every registration
 * passes before a server starts: a definition nice-grpc can serve, and a
 * function for each of its methods. nice-grpc itself would fail at `listen()`
 * with a TypeError (`implementation[methodName].bind`), after binding nothing.
 *
 * `service` and `ServiceRegistration` are public (re-exported by server.ts);
 * the checks are internal to the library.
 */
import type { CompatServiceDefinition, ServiceImplementation } from "nice-grpc";
import { InvalidOptionError } from "./errors.js";

/** A service to serve: a nice-grpc definition and its implementation. */
export interface ServiceRegistration<Service extends CompatServiceDefinition = CompatServiceDefinition> {
  /** The service's definition: a ts-proto `…Definition` (outputServices=nice-grpc) or a grpc-js service. */
  definition: Service;
  /** A function for each method of the service. */
  implementation: ServiceImplementation<Service>;
}

/**
 * Binds a definition to its implementation, keeping the two types in step.
 * Every method of the service must be implemented: a missing one is named in
 * an {@link InvalidOptionError}.
 */
export function service<Service extends CompatServiceDefinition>(
  definition: Service,
  implementation: ServiceImplementation<Service>,
): ServiceRegistration {
  checkService(definition, implementation);
  return { definition, implementation } as ServiceRegistration;
}

/** What a checked service serves: its name and the path of each method. */
export interface CheckedService {
  name: string;
  paths: string[];
}

/**
 * Checks a definition and its implementation; `prefix` locates them in the
 * options (`services[2].`). Returns the method paths, to find a service given twice.
 */
export function checkService(definition: unknown, implementation: unknown, prefix = ""): CheckedService {
  const { name, methods } = readDefinition(definition, `${prefix}definition`);
  const given = implementation as Record<string, unknown>;
  if (typeof implementation !== "object" || implementation === null) {
    throw new InvalidOptionError(`${prefix}implementation`, implementation, `expected an object implementing ${name}`);
  }
  const missing = [...methods.keys()].filter((key) => typeof given[key] !== "function");
  if (missing.length > 0) {
    throw new InvalidOptionError(
      `${prefix}implementation`,
      implementation,
      `expected a function for every method of ${name}; missing: ${missing.join(", ")}`,
    );
  }
  return { name, paths: [...methods.values()] };
}

/** The service's name and its methods (implementation key → path), from either definition form nice-grpc takes. */
function readDefinition(definition: unknown, option: string): { name: string; methods: Map<string, string> } {
  const fail = (): never => {
    throw new InvalidOptionError(
      option,
      definition,
      "expected a service definition with at least one method: a ts-proto `…Definition` (outputServices=nice-grpc) or a grpc-js service",
    );
  };
  if (typeof definition !== "object" || definition === null) return fail();
  const d = definition as Record<string, unknown>;
  const methods = new Map<string, string>();
  let name: string | undefined;
  // ts-proto: { name, fullName, methods: { key: { name, requestType, responseType, … } } }, told apart as nice-grpc does.
  if ("name" in d && "fullName" in d && "methods" in d) {
    if (typeof d.fullName !== "string" || typeof d.methods !== "object" || d.methods === null) return fail();
    name = d.fullName;
    for (const [key, method] of Object.entries(d.methods)) {
      if (!isTsProtoMethod(method)) return fail();
      methods.set(key, `/${name}/${method.name}`);
    }
  } else {
    // grpc-js / nice-grpc: { key: { path: "/package.Service/Method", requestStream, … } }.
    for (const [key, method] of Object.entries(d)) {
      const path = (method as { path?: unknown } | null)?.path;
      if (typeof path !== "string" || !/^\/[^/]+\/[^/]+$/.test(path)) return fail();
      name ??= path.slice(1, path.lastIndexOf("/"));
      methods.set(key, path);
    }
  }
  // grpc-js refuses a service without methods ("Cannot add an empty service"), but only at listen().
  if (name === undefined || methods.size === 0) return fail();
  return { name, methods };
}

function isTsProtoMethod(method: unknown): method is { name: string } {
  const m = method as Record<string, { encode?: unknown; decode?: unknown } | undefined> | null;
  const codec = (type: { encode?: unknown; decode?: unknown } | undefined) =>
    typeof type?.encode === "function" && typeof type.decode === "function";
  return typeof m?.name === "string" && codec(m.requestType) && codec(m.responseType);
}
