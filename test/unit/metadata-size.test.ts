import { Metadata } from "nice-grpc-common";
import { describe, expect, test } from "vitest";
import { checkMetadataSize, metadataSize } from "../../src/call/metadata.js";
import { InvalidOptionError } from "../../src/errors.js";

// Metadata counted as HTTP/2 counts a header list (RFC 7541 §4.1): each
// entry's name and value plus 32; binary values as the base64 that is sent.

describe("metadataSize", () => {
  test("text entries: name + value + 32 each (text values are ASCII), a key's values as nice-grpc sends them", () => {
    expect(metadataSize(Metadata())).toBe(0);
    expect(metadataSize(Metadata({ ab: "xyz" }))).toBe(2 + 3 + 32);
    const twice = Metadata();
    twice.append("k", "1");
    twice.append("k", "22");
    // nice-grpc's Metadata joins a text key's values ("1, 22"): one entry is sent.
    expect(metadataSize(twice)).toBe(1 + "1, 22".length + 32);
    const binary = Metadata();
    binary.append("k-bin", new Uint8Array(3));
    binary.append("k-bin", new Uint8Array(3));
    expect(metadataSize(binary)).toBe(2 * (5 + 4 + 32)); // binary values stay apart
  });

  test("binary entries: their base64 length (4 per 3 bytes, rounded up)", () => {
    expect(metadataSize(Metadata({ "k-bin": new Uint8Array(3) }))).toBe(5 + 4 + 32);
    expect(metadataSize(Metadata({ "k-bin": new Uint8Array(4) }))).toBe(5 + 8 + 32);
    expect(metadataSize(Metadata({ "k-bin": new Uint8Array(0) }))).toBe(5 + 0 + 32);
  });
});

describe("checkMetadataSize", () => {
  const metadata = Metadata({ ab: "xyz" }); // 37 bytes

  test("up to the limit passes", () => {
    expect(() => checkMetadataSize(metadata, 37)).not.toThrow();
    expect(() => checkMetadataSize(metadata, 1_000)).not.toThrow();
  });

  test("past it: an InvalidOptionError naming the size and the limit", () => {
    let caught: unknown;
    try {
      checkMetadataSize(metadata, 36);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionError);
    expect((caught as InvalidOptionError).option).toBe("metadata");
    expect((caught as Error).message).toBe(
      "balanced-grpc: invalid option \"metadata\": expected at most 36 bytes of metadata (each entry's name and value plus 32, as HTTP/2 counts it; the client's maxMetadataSize), got '37 bytes'",
    );
  });
});
