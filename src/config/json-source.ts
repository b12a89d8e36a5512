/**
 * Reading configuration text: strict UTF-8, and JSON syntax errors with line and column.
 * Node's JSON.parse does not always report a position, so on failure a small scanner finds it.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { ErrorCode, SemrouteError } from '../errors.js';

/**
 * Reads a file as strict UTF-8 (a stray byte is an error, not a U+FFFD), BOM removed; a `.gz`
 * file is gunzipped (at most maxBytes of text, so a small file that
 * inflates without end is refused, not read).
 */
export async function readTextFile(file: string, maxBytes = 64 * 1024 * 1024): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
    if (file.endsWith('.gz')) bytes = gunzipSync(bytes, { maxOutputLength: maxBytes + 1 });
  } catch (cause) {
    throw new SemrouteError(ErrorCode.FILE_READ, `Cannot read ${file}: ${(cause as Error).message}`, {
      file,
      cause,
    });
  }
  return decodeText(bytes, file, maxBytes);
}

export function decodeText(bytes: Uint8Array, file: string | undefined, maxBytes = 64 * 1024 * 1024): string {
  if (bytes.length > maxBytes) {
    throw new SemrouteError(
      ErrorCode.FILE_READ,
      `${file ?? 'input'} is ${bytes.length} bytes, over the ${maxBytes}-byte limit`,
      {
        file,
        expected: `at most ${maxBytes} bytes`,
      },
    );
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (cause) {
    throw new SemrouteError(ErrorCode.CONFIG_SYNTAX, `${file ?? 'input'} is not valid UTF-8 text`, {
      file,
      expected: 'UTF-8',
      cause,
    });
  }
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lastBreak = i;
    }
  }
  return { line, column: offset - lastBreak };
}

/** Parses JSON; on a syntax error throws CONFIG_SYNTAX naming file, line, column and what was expected. */
export function parseJson(text: string, file: string | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const { offset, expected } = locateJsonError(text);
    const { line, column } = lineColumn(text, offset);
    const found = offset >= text.length ? 'end of input' : JSON.stringify(text.slice(offset, offset + 1));
    throw new SemrouteError(
      ErrorCode.CONFIG_SYNTAX,
      `${file ?? 'input'}:${line}:${column}: invalid JSON: expected ${expected}, found ${found}`,
      { file, expected, cause, details: { line, column } },
    );
  }
}

/** Walks the text as JSON and returns where it first goes wrong. Only called on failure. */
function locateJsonError(text: string): { offset: number; expected: string } {
  let i = 0;
  class Stop {
    constructor(
      readonly offset: number,
      readonly expected: string,
    ) {}
  }
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (expected: string): never => {
    throw new Stop(i, expected);
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('a JSON value');
  };
  const string = () => {
    if (text[i] !== '"') fail('a string in double quotes');
    i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('4 hex digits after \\u');
          i += 5;
        } else if (text[i] !== undefined && '"\\/bfnrt'.includes(text[i]!)) i++;
        else fail('a valid escape');
        continue;
      }
      if (c.charCodeAt(0) < 0x20) fail('no raw control character inside a string');
      i++;
    }
    fail('a closing "');
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('a number');
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ':') fail('":"');
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail('"," or "}"');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail('"," or "]"');
      }
    }
    if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else fail('a JSON value');
  };
  try {
    value();
    ws();
    if (i < text.length) fail('end of input');
    return { offset: i, expected: 'valid JSON' };
  } catch (stop) {
    if (stop instanceof Stop) return { offset: stop.offset, expected: stop.expected };
    // Nesting too deep for the scanner's stack: report the start.
    return { offset: 0, expected: 'JSON nested less deeply' };
  }
}
