/**
 * YAML documents (config.yaml) read as LiteLLM reads them: PyYAML's `safe_load`, YAML 1.1. A
 * config written for LiteLLM must mean the same here: `tpm: 80_000` is a number, `yes`/`on` are
 * booleans. Where the `yaml` package's 1.1 schema and PyYAML differ, PyYAML wins: `y`/`n` stay
 * text, `09` and `1e3` stay text (numeric fields take numeric text anyway), a date stays the text
 * it was written as (LiteLLM would drop a deployment whose `api_version: 2023-05-15` became a
 * date). Mapping keys are always their text. Syntax errors name line and column; aliases are
 * budgeted.
 */
import { parseDocument, visit } from 'yaml';
import { ErrorCode, SemrouteError } from '../errors.js';

/** Plain scalars PyYAML leaves as text where the `yaml` package's 1.1 schema does not. */
const PYYAML_TEXT = [
  /^[yYnN]$/,
  // A leading zero then an 8 or 9: not octal, and PyYAML has no decimal reading for it.
  /^[-+]?0[0-9_]*[89][0-9_]*$/,
  // An exponent without a dot: PyYAML's float pattern needs the dot.
  /^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$/,
];

/** Parses YAML (or JSON) text with LiteLLM's reading of scalars; syntax errors name line and column. */
export function parseYaml(text: string, file: string | undefined): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, version: '1.1' });
  const error = doc.errors[0];
  if (error !== undefined) {
    const pos = error.linePos?.[0];
    throw new SemrouteError(
      ErrorCode.CONFIG_SYNTAX,
      `${file ?? 'config'}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${error.message.split('\n')[0]}`,
      { file, details: pos ? { line: pos.line, column: pos.col } : undefined },
    );
  }
  visit(doc, {
    Scalar(key, node) {
      if (node.type !== 'PLAIN' || typeof node.source !== 'string') return;
      const source = node.source;
      if (key === 'key' || node.value instanceof Date || PYYAML_TEXT.some((p) => p.test(source))) {
        if (node.value !== null) node.value = source;
      }
    },
  });
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
