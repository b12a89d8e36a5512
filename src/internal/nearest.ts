/**
 * The known name a mistyped one most likely meant (`model_lst` → `model_list`), for "did you
 * mean" hints: the closest by edit distance, if it is close enough to be a typo (at most a third
 * of the name's length, and at least one edit).
 */
export function nearestName(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const candidate of known) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase(), bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === word ? undefined : best;
}

/** Levenshtein distance, giving up (returning `limit`) once it cannot be under `limit`. */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let smallest = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      row.push(v);
      if (v < smallest) smallest = v;
    }
    if (smallest >= limit) return limit;
    previous = row;
  }
  return Math.min(previous[b.length]!, limit);
}
