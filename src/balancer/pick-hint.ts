import type { Metadata } from "@grpc/grpc-js";

/**
 * A call's metadata options carry, under this key, the backends its attempt
 * should avoid: grpc-js hands a call's metadata (and its options object, by
 * reference, through every clone) to the picker, and sends no option on the
 * wire. The one seam by which a call tells the balancer something.
 */
const AVOID = "balancedGrpcAvoid";

/**
 * @internal
 * Marks `metadata` so that the pick of its attempt passes over `backends`
 * (`host:port`, as `call.getPeer()` reports them) while another is ready:
 * retries and hedges go elsewhere.
 */
export function avoidBackends(metadata: Metadata, backends: ReadonlySet<string>): void {
  metadata.setOptions({ ...metadata.getOptions(), [AVOID]: backends } as never);
}

/** @internal The backends a pick should pass over, if the call named any. */
export function avoidedBy(metadata: Metadata): ReadonlySet<string> | undefined {
  return (metadata.getOptions() as Record<string, unknown>)[AVOID] as ReadonlySet<string> | undefined;
}
