/** Renders rows as a plain-text table with aligned columns. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** A share of 0..1 as a bar of `width` characters. */
export function bar(share: number, width = 10): string {
  const filled = Math.round(share * width);
  return "█".repeat(filled) + "·".repeat(width - filled);
}
