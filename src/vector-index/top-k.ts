/**
 * The best few of many scores without sorting them all: a short buffer kept sorted best first
 * (fill it with -Infinity, or with a floor a score must beat, and ids with -1). Equal scores
 * keep the one offered first. Used by exact search, candidate routes and the head's negatives.
 */
export function offerTop(scores: Float64Array, ids: Int32Array, score: number, id: number): void {
  const last = scores.length - 1;
  if (last < 0 || score <= scores[last]!) return;
  let pos = last;
  while (pos > 0 && scores[pos - 1]! < score) {
    scores[pos] = scores[pos - 1]!;
    ids[pos] = ids[pos - 1]!;
    pos--;
  }
  scores[pos] = score;
  ids[pos] = id;
}
