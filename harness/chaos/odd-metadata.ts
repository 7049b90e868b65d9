import { Metadata } from "balanced-grpc";
import type { OddMetadata } from "./call-plan.js";
import type { Prng } from "./prng.js";

/**
 * Unusual but valid metadata, well inside Node's HTTP/2 header limit (64 KiB
 * by default; a 1 MB value is issue 23's own case):
 * - large: one 2-8 KB value;
 * - many: 40-100 keys;
 * - binary: random bytes under a `-bin` key;
 * - unicode: UTF-8 text under a `-bin` key, the one way gRPC allows it
 *   (nice-grpc's Metadata refuses non-ASCII text under a plain key at set(),
 *   so such a value never reaches the engine).
 */
export function oddMetadata(kind: OddMetadata, prng: Prng, metadata = Metadata()): Metadata {
  switch (kind) {
    case "large":
      metadata.set("x-chaos-large", "x".repeat(prng.int(2_000, 8_000)));
      break;
    case "many":
      for (let i = prng.int(40, 100); i > 0; i--) metadata.set(`x-chaos-key-${i}`, `value-${prng.int(0, 1e9)}`);
      break;
    case "binary":
      metadata.set(
        "x-chaos-data-bin",
        Uint8Array.from({ length: prng.int(1, 512) }, () => prng.int(0, 255)),
      );
      break;
    case "unicode":
      metadata.set("x-chaos-text-bin", new TextEncoder().encode(UNICODE));
      break;
  }
  return metadata;
}

/** Text beyond ASCII: accents, CJK, an emoji (a surrogate pair in UTF-16). */
export const UNICODE = "žluťoučký kůň — 速い — 🚀";
