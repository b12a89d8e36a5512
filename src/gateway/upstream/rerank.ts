/**
 * Reranking, in the shape LiteLLM's `/rerank` takes and answers (Cohere's): a query, documents
 * (text, or objects ranked by their `rank_fields` or `text`), `top_n`, `return_documents`. The
 * request is normalised once here for every wire; an upstream answers indexes and scores, and
 * the documents are put back from the request (upstreams differ in whether they echo them).
 */
import type { RerankResponse, RerankResult } from '../types.js';
import type { UpstreamBody } from './wire.js';

/** The text an upstream ranks a document by: itself, its rank_fields joined, or its `text`. */
export function documentText(document: unknown, rankFields: readonly string[] | undefined): string {
  if (typeof document === 'string') return document;
  const d = (document ?? {}) as Record<string, unknown>;
  const fields = rankFields ?? ['text'];
  const parts = fields.map((f) => d[f]).filter((v) => v !== undefined && v !== null);
  return parts.length > 0
    ? parts.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n')
    : JSON.stringify(d);
}

/** The request's documents as texts, in order. */
export function documentTexts(body: UpstreamBody): string[] {
  const rankFields = Array.isArray(body.rank_fields) ? (body.rank_fields as string[]) : undefined;
  return (body.documents as unknown[]).map((d) => documentText(d, rankFields));
}

/**
 * The answer a client gets: results best first, at most top_n, each with its document when
 * asked (a text document as `{ text }`, as Cohere's v1 answers it).
 */
export function rerankAnswer(
  body: UpstreamBody,
  results: ReadonlyArray<{ index: number; relevance_score: number }>,
  id: string,
  meta?: Record<string, unknown>,
): RerankResponse {
  const documents = body.documents as unknown[];
  const topN = typeof body.top_n === 'number' ? body.top_n : results.length;
  const ranked: RerankResult[] = [...results]
    .sort((a, b) => b.relevance_score - a.relevance_score)
    .slice(0, topN)
    .map(({ index, relevance_score }) => {
      const document = documents[index];
      return body.return_documents === true
        ? {
            index,
            relevance_score,
            document:
              typeof document === 'string' ? { text: document } : (document as Record<string, unknown>),
          }
        : { index, relevance_score };
    });
  return { id, results: ranked, ...(meta === undefined ? {} : { meta }) };
}
