// Summaries of repeated measurements: the median says what is typical, the range how noisy it was.
export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

export const fixed = (value, digits = 2) => value === undefined || value === null || Number.isNaN(value) ? 'n/a' : value.toFixed(digits)

/** `median (min–max)`. */
export const summary = (values, digits = 2) => values.length === 0
  ? 'n/a'
  : `${fixed(median(values), digits)} (${fixed(Math.min(...values), digits)}–${fixed(Math.max(...values), digits)})`

/** `ours / theirs` in percent, or n/a when the baseline served nothing. */
export const share = (ours, theirs) => median(theirs) > 0 ? `${fixed(100 * median(ours) / median(theirs), 0)}%` : 'n/a'

export async function timed (fn) {
  const started = performance.now()
  await fn()
  return performance.now() - started
}
