/**
 * What text a request is routed on. By default the last user message's text; content may be a
 * string or an array of parts (text parts joined, images and audio ignored). Messages with only
 * tool calls, or no text at all, give `undefined`: the caller routes to the default.
 */

export interface ChatMessageLike {
  role?: unknown;
  content?: unknown;
  [key: string]: unknown;
}

export type RouteInput = string | readonly ChatMessageLike[];

export interface TextOptions {
  /** Join the text of earlier user turns too (oldest first). Default false. */
  includeHistory?: boolean | undefined;
  /** Most characters kept (the end of the text is kept). Default 8192: encoders read far less. */
  maxChars?: number | undefined;
}

export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') texts.push(part);
    else if (part !== null && typeof part === 'object') {
      const p = part as { type?: unknown; text?: unknown };
      if (
        (p.type === 'text' || p.type === 'input_text' || p.type === undefined) &&
        typeof p.text === 'string'
      ) {
        texts.push(p.text);
      }
    }
  }
  return texts.join('\n');
}

/** The text to embed, or undefined when the messages carry none. */
export function routingText(
  input: readonly ChatMessageLike[],
  options: TextOptions = {},
): string | undefined {
  const userTexts: string[] = [];
  for (const message of input) {
    if (message === null || typeof message !== 'object' || message.role !== 'user') continue;
    const text = contentText(message.content).trim();
    if (text !== '') userTexts.push(text);
  }
  if (userTexts.length === 0) return undefined;
  const text = options.includeHistory ? userTexts.join('\n') : userTexts[userTexts.length - 1]!;
  const max = options.maxChars ?? 8192;
  return text.length > max ? text.slice(text.length - max) : text;
}
