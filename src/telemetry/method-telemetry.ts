import type { Attributes } from "@opentelemetry/api";
import { statusName } from "./status-code.js";

/**
 * @internal
 * What every call of one method on one client shares, worked out once: span
 * names and attributes by OpenTelemetry's RPC conventions, and gRFC A66's
 * metric attributes, one frozen object per status (no allocation per call).
 */
export class MethodTelemetry {
  /** `package.Service/Method`, the call span's name and A66's `grpc.method`. */
  readonly spanName: string;
  readonly attemptSpanName: string;
  readonly spanAttributes: Attributes;
  readonly metricAttributes: Attributes;
  private readonly byStatus: Attributes[] = [];

  constructor(path: string, target: string, targetAttributes: Attributes) {
    this.spanName = path.replace(/^\//, "");
    this.attemptSpanName = `Attempt.${this.spanName}`;
    const slash = this.spanName.lastIndexOf("/");
    this.spanAttributes = Object.freeze({
      "rpc.system": "grpc",
      "rpc.service": this.spanName.slice(0, slash),
      "rpc.method": this.spanName.slice(slash + 1),
      ...targetAttributes,
    });
    this.metricAttributes = Object.freeze({ "grpc.method": methodName(path), "grpc.target": target });
  }

  /** The metric attributes with `grpc.status`. */
  withStatus(code: number): Attributes {
    let attributes = this.byStatus[code];
    if (!attributes) {
      attributes = Object.freeze({ ...this.metricAttributes, "grpc.status": statusName(code) });
      this.byStatus[code] = attributes;
    }
    return attributes;
  }
}

/**
 * @internal
 * A66's `grpc.method`: the full method name of a method the application
 * defined (`package.Service/Method`), or `other`, so a peer sending made-up
 * paths cannot grow the number of series without bound.
 */
export function methodName(path: string, known = true): string {
  return known ? path.replace(/^\//, "") : "other";
}
