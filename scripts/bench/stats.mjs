// Summary statistics of the benchmarks' timings, for Node and the browser alike (bench.mjs,
// bench-cold.mjs, bench-camera.mjs, and ort-bench.mjs in the page bench.mjs serves).

/** The value at fraction `p` (0–1) of the sorted values (nearest rank); null when there are none. */
export function quantile(values, p) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.round((s.length - 1) * p)];
}

/** Count, p50, p95, min, max and mean of the values. */
export function stats(values) {
  if (!values.length) return { n: 0, p50: null, p95: null };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { n: values.length, p50: quantile(values, 0.5), p95: quantile(values, 0.95), min: Math.min(...values), max: Math.max(...values), mean };
}

/** The median of the finite values (the mean of the middle two for an even count); NaN when none. */
export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}
