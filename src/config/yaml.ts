/** YAML documents (config.yaml): syntax errors name line and column; aliases are budgeted. */
import { parseDocument } from 'yaml';
import { ErrorCode, SemrouteError } from '../errors.js';

/** Parses YAML (or JSON) text; syntax errors name line and column. */
export function parseYaml(text: string, file: string | undefined): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error !== undefined) {
    const pos = error.linePos?.[0];
    throw new SemrouteError(
      ErrorCode.CONFIG_SYNTAX,
      `${file ?? 'config'}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${error.message.split('\n')[0]}`,
      { file, details: pos ? { line: pos.line, column: pos.col } : undefined },
    );
  }
  try {
    // A small alias budget stops "billion laughs" documents from expanding without bound.
    return doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    throw new SemrouteError(
      ErrorCode.CONFIG_SYNTAX,
      `${file ?? 'config'}: invalid YAML: ${(cause as Error).message}`,
      { file, cause },
    );
  }
}
