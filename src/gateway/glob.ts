/**
 * `*` patterns, as LiteLLM (`model_name: "openai/*"`) and OpenRouter (`models: ["anthropic/*"]`)
 * write them: each `*` matches any run of characters, everything else literally. Matched in
 * time linear in the name for each literal piece, never by a backtracking regular expression: a
 * client's `"*****************Z"` froze the event loop for 11.7 s as a RegExp.
 */

export interface Glob {
  readonly pattern: string;
  /**
   * What each `*` matched, or undefined when the name does not match. The captures are those of
   * Python's and JavaScript's greedy `(.*)`: each `*` takes as much as it can, the first most.
   */
  match(name: string): string[] | undefined;
  test(name: string): boolean;
}

export function compileGlob(pattern: string): Glob {
  const parts = pattern.split('*');
  const prefix = parts[0]!;
  const suffix = parts[parts.length - 1]!;
  const fixed = parts.reduce((n, p) => n + p.length, 0);
  const match = (name: string): string[] | undefined => {
    if (parts.length === 1) return name === pattern ? [] : undefined;
    if (name.length < fixed || !name.startsWith(prefix) || !name.endsWith(suffix)) return undefined;
    // Where each literal piece starts. The middle pieces are placed from the right, each as far
    // right as it can go: that is exactly what greedy stars leave them, and one lastIndexOf per
    // piece finds it (no backtracking: a piece that fits nowhere fails the match at once).
    const starts = new Array<number>(parts.length);
    starts[0] = 0;
    let end = name.length - suffix.length;
    starts[parts.length - 1] = end;
    for (let i = parts.length - 2; i >= 1; i--) {
      const piece = parts[i]!;
      const at = end - piece.length < prefix.length ? -1 : name.lastIndexOf(piece, end - piece.length);
      if (at < prefix.length) return undefined;
      starts[i] = at;
      end = at;
    }
    const captures: string[] = [];
    for (let i = 0; i < parts.length - 1; i++)
      captures.push(name.slice(starts[i]! + parts[i]!.length, starts[i + 1]!));
    return captures;
  };
  return { pattern, match, test: (name) => match(name) !== undefined };
}
