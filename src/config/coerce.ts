/**
 * Values as LiteLLM (pydantic, lax mode) takes them: numeric text is a number, `yes`/`on`/`1` and
 * their opposites are booleans, a number is text where text is expected. `os.environ/` values
 * are always text, and PyYAML leaves `1e3` as text: a config LiteLLM accepts is accepted here.
 */
import { z } from 'zod';

const NUMERIC = /^\s*[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;
const FLAGS: Record<string, boolean> = {
  true: true,
  yes: true,
  on: true,
  '1': true,
  false: false,
  no: false,
  off: false,
  '0': false,
};

/** A number schema that takes numeric text too. */
export const num = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (value) => (typeof value === 'string' && NUMERIC.test(value) ? Number(value.replace(/_/g, '')) : value),
    schema,
  );

/** A boolean that takes `true`/`yes`/`on`/`1` (and opposites) as text too. */
export const flag = () =>
  z.preprocess((v) => (typeof v === 'string' ? (FLAGS[v.trim().toLowerCase()] ?? v) : v), z.boolean());

/** Text that takes a number as its text (`api_version: 2024`, a numeric key). */
export const text = () => z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string());
