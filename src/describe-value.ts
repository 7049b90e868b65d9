/*
 * A short description of any value for an error message. Error texts end up
 * in logs, so they must never print what a user object holds (an
 * implementation's database URL, a credential's key): objects are described
 * by type and a few key names, never values; long strings are cut.
 *
 * Internal to the library (not exported from its entry).
 */
import { inspect } from "node:util";

/** Characters of a string shown before it is cut. */
export const MAX_SHOWN_CHARS = 60;

/** Key names of an object shown before "… N more". */
const MAX_SHOWN_KEYS = 4;

/** Characters of a single key or function name shown. */
const MAX_NAME_CHARS = 30;

export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return describeString(value);
    case "symbol":
      return `a symbol ${shorten(value.description ?? "", MAX_NAME_CHARS)}`.trimEnd();
    case "function":
      return describeFunction(value);
    case "object":
      return value === null ? "null" : describeObject(value);
    default:
      // number, bigint, boolean, undefined: short, and shown as code would write them.
      return inspect(value);
  }
}

/** `'abc'`, or the first characters and the full length: `'abc…' (10000 characters)`. */
function describeString(value: string): string {
  if (value.length <= MAX_SHOWN_CHARS) return inspect(value);
  return `${inspect(shorten(value, MAX_SHOWN_CHARS))} (${value.length} characters)`;
}

function describeFunction(value: { readonly name?: unknown; readonly constructor?: { name?: unknown } }): string {
  return safely(() => {
    // An async function where an async generator is expected is a common slip: say which it is.
    const kind = value.constructor?.name === "AsyncFunction" ? "an async function" : "a function";
    const name = typeof value.name === "string" ? value.name : "";
    return name === "" ? kind : `${kind} ${shorten(name, MAX_NAME_CHARS)}`;
  }, "a function");
}

function describeObject(value: object): string {
  // A Proxy or an exotic object may throw from any trap: fall back to its type.
  return safely(() => {
    if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? "" : "s"}`;
    // A date is a value, not user data; it is what a wrong deadline looks like.
    if (value instanceof Date)
      return `a Date (${Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString()})`;
    if (value instanceof Map || value instanceof Set) return `a ${value.constructor.name} of ${value.size} entries`;
    const type = constructorName(value);
    if (type !== undefined) return `an instance of ${shorten(type, MAX_NAME_CHARS)}`;
    return `an object ${describeKeys(Object.keys(value))}`;
  }, "an object");
}

/** The class of an instance; undefined for plain and null-prototype objects. */
function constructorName(value: object): string | undefined {
  const prototype = Object.getPrototypeOf(value);
  if (prototype === null || prototype === Object.prototype) return undefined;
  // The descriptor, not `value.constructor`: no getter of the user's runs.
  const type = Object.getOwnPropertyDescriptor(prototype, "constructor")?.value;
  const name = typeof type === "function" ? type.name : "";
  return name === "" ? "an anonymous class" : name;
}

/** `{ a, b, c, d, … 3 more }`: names only. */
function describeKeys(keys: string[]): string {
  if (keys.length === 0) return "{}";
  const shown = keys.slice(0, MAX_SHOWN_KEYS).map((key) => shorten(key, MAX_NAME_CHARS));
  const more = keys.length > MAX_SHOWN_KEYS ? `, … ${keys.length - MAX_SHOWN_KEYS} more` : "";
  return `{ ${shown.join(", ")}${more} }`;
}

/** The first `max` characters and an ellipsis, never splitting a surrogate pair. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
