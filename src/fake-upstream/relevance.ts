/**
 * How the fakes score a document against a query: the share of the query's words the document
 * holds (0–1), ties broken by shorter documents. Deterministic, so a test knows the order a
 * correct proxy must return.
 */
const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

export function fakeRelevance(query: string, document: string): number {
  const q = words(query);
  if (q.size === 0) return 0;
  const d = words(document);
  let shared = 0;
  for (const w of q) if (d.has(w)) shared += 1;
  return Number((shared / q.size - document.length * 1e-6).toFixed(6));
}
