/**
 * LiteLLM's complexity router, as its documentation and code describe it (re-implemented, not
 * copied): seven weighted dimensions of the caller's ask give a score, boundaries map the score
 * to a tier (SIMPLE, MEDIUM, COMPLEX, REASONING), two or more reasoning markers force REASONING
 * once the score reaches a floor. Only the ask is scored (the newest user turn with text, its
 * `<system-reminder>` blocks removed); a system prompt is context, never scored.
 */

export const TIERS = ['SIMPLE', 'MEDIUM', 'COMPLEX', 'REASONING'] as const;
export type Tier = (typeof TIERS)[number];

export interface ComplexitySettings {
  boundaries: { simple_medium: number; medium_complex: number; complex_reasoning: number };
  tokens: { simple: number; complex: number };
  weights: Record<Dimension, number>;
  keywords: { code: string[]; reasoning: string[]; technical: string[]; simple: string[] };
  /** The score a 2+-marker request must reach to be forced to REASONING. Default simple_medium. */
  reasoningOverrideMinScore: number;
  /** Checked before scoring: the first tier (the most severe when several match) whose keyword appears. */
  keywordTierRules: Array<{ keywords: string[]; tier: Tier }>;
  /** Case-sensitive phrases that move a request one configured tier up. */
  escalationKeywords: string[];
}

export const DIMENSIONS = [
  'tokenCount',
  'codePresence',
  'reasoningMarkers',
  'technicalTerms',
  'simpleIndicators',
  'multiStepPatterns',
  'questionComplexity',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** LiteLLM's defaults (litellm/router_strategy/complexity_router/config.py). */
export const DEFAULT_COMPLEXITY: ComplexitySettings = Object.freeze({
  boundaries: { simple_medium: 0.15, medium_complex: 0.35, complex_reasoning: 0.6 },
  tokens: { simple: 15, complex: 400 },
  weights: {
    tokenCount: 0.1,
    codePresence: 0.3,
    reasoningMarkers: 0.25,
    technicalTerms: 0.25,
    simpleIndicators: 0.05,
    multiStepPatterns: 0.03,
    questionComplexity: 0.02,
  },
  keywords: {
    code: [
      'function',
      'class',
      'def',
      'const',
      'let',
      'var',
      'import',
      'export',
      'return',
      'async',
      'await',
      'try',
      'catch',
      'exception',
      'error',
      'debug',
      'api',
      'endpoint',
      'request',
      'response',
      'database',
      'sql',
      'query',
      'schema',
      'algorithm',
      'implement',
      'refactor',
      'optimize',
      'python',
      'javascript',
      'typescript',
      'java',
      'rust',
      'golang',
      'react',
      'vue',
      'angular',
      'node',
      'docker',
      'kubernetes',
      'git',
      'commit',
      'merge',
      'branch',
      'pull request',
    ],
    reasoning: [
      'step by step',
      'think through',
      "let's think",
      'reason through',
      'analyze this',
      'break down',
      'explain your reasoning',
      'show your work',
      'chain of thought',
      'think carefully',
      'consider all',
      'evaluate',
      'pros and cons',
      'compare and contrast',
      'weigh the options',
      'logical',
      'deduce',
      'infer',
      'conclude',
    ],
    technical: [
      'architecture',
      'distributed',
      'scalable',
      'microservice',
      'machine learning',
      'neural network',
      'deep learning',
      'encryption',
      'authentication',
      'authorization',
      'performance',
      'latency',
      'throughput',
      'benchmark',
      'concurrency',
      'parallel',
      'threading',
      'memory',
      'cpu',
      'gpu',
      'optimization',
      'protocol',
      'tcp',
      'http',
      'grpc',
      'websocket',
      'container',
      'orchestration',
    ],
    simple: [
      'what is',
      "what's",
      'define',
      'definition of',
      'who is',
      'who was',
      'when did',
      'when was',
      'where is',
      'where was',
      'how many',
      'how much',
      'yes or no',
      'true or false',
      'simple',
      'brief',
      'short',
      'quick',
      'hello',
      'hi',
      'hey',
      'thanks',
      'thank you',
      'goodbye',
      'bye',
      'okay',
    ],
  },
  reasoningOverrideMinScore: 0.15,
  keywordTierRules: [],
  escalationKeywords: ['LITELLM ESCALATE'],
}) as ComplexitySettings;

export interface ComplexityDecision {
  tier: Tier;
  score: number;
  /** LiteLLM's cause names: heuristic_scorer, reasoning_override, literal_keyword_match, default_fallback. */
  cause: string;
  signals: string[];
  escalated: boolean;
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/;

/** A keyword's matcher: a phrase (or CJK) as a substring, a word with Unicode word boundaries. */
function matcher(keyword: string): (text: string) => boolean {
  const k = keyword.toLowerCase();
  if (k.includes(' ') || CJK.test(k)) return (text) => text.includes(k);
  const re = new RegExp(
    `(?<![\\p{L}\\p{N}_])${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}_])`,
    'u',
  );
  return (text) => re.test(text);
}

/** Compiled once per router: the keyword lists as matchers. */
export class ComplexityClassifier {
  private readonly lists: Record<
    keyof ComplexitySettings['keywords'],
    Array<{ word: string; test: (t: string) => boolean }>
  >;
  private readonly rules: Array<{ tier: Tier; tests: Array<(t: string) => boolean> }>;

  constructor(readonly settings: ComplexitySettings = DEFAULT_COMPLEXITY) {
    const compile = (words: string[]) => words.map((word) => ({ word, test: matcher(word) }));
    this.lists = {
      code: compile(settings.keywords.code),
      reasoning: compile(settings.keywords.reasoning),
      technical: compile(settings.keywords.technical),
      simple: compile(settings.keywords.simple),
    };
    this.rules = settings.keywordTierRules.map((r) => ({ tier: r.tier, tests: r.keywords.map(matcher) }));
  }

  /** The tier of an ask (its text; '' when the request has none). */
  classify(ask: string): ComplexityDecision {
    const s = this.settings;
    const text = ask.toLowerCase();
    const escalated = s.escalationKeywords.some((k) => k !== '' && ask.includes(k));
    if (ask.trim() === '')
      return { tier: 'MEDIUM', score: 0, cause: 'default_fallback', signals: [], escalated: false };
    const ruled = this.rules.filter((r) => r.tests.some((t) => t(text))).map((r) => TIERS.indexOf(r.tier));
    if (ruled.length > 0)
      return {
        tier: TIERS[Math.max(...ruled)]!,
        score: 0,
        cause: 'literal_keyword_match',
        signals: [],
        escalated,
      };
    const signals: string[] = [];
    const found = (list: keyof typeof this.lists, label: string) => {
      const hits = this.lists[list].filter((k) => k.test(text)).map((k) => k.word);
      if (hits.length > 0) signals.push(`${label} (${hits.slice(0, 3).join(', ')})`);
      return hits.length;
    };
    const tokens = Math.floor(ask.length / 4);
    const raw: Record<Dimension, number> = {
      tokenCount: tokens < s.tokens.simple ? -1 : tokens > s.tokens.complex ? 1 : 0,
      codePresence: 0,
      reasoningMarkers: 0,
      technicalTerms: 0,
      simpleIndicators: 0,
      multiStepPatterns: 0,
      questionComplexity: 0,
    };
    if (raw.tokenCount !== 0) signals.push(`${raw.tokenCount < 0 ? 'short' : 'long'} (${tokens} tokens)`);
    const code = found('code', 'code');
    raw.codePresence = code >= 2 ? 1 : code >= 1 ? 0.5 : 0;
    const reasoning = found('reasoning', 'reasoning');
    raw.reasoningMarkers = reasoning >= 2 ? 1 : reasoning >= 1 ? 0.7 : 0;
    const technical = found('technical', 'technical');
    raw.technicalTerms = technical >= 4 ? 1 : technical >= 2 ? 0.5 : 0;
    raw.simpleIndicators = found('simple', 'simple') >= 1 ? -1 : 0;
    if (
      /first.*?then/i.test(text) ||
      /step\s*\d/i.test(text) ||
      /\d+\.\s/.test(text) ||
      /[a-z]\)\s/i.test(text)
    ) {
      raw.multiStepPatterns = 0.5;
      signals.push('multi-step');
    }
    const questions = (ask.match(/\?/g) ?? []).length;
    if (questions > 3) {
      raw.questionComplexity = 0.5;
      signals.push(`${questions} questions`);
    }
    let score = 0;
    for (const d of DIMENSIONS) score += raw[d] * (s.weights[d] ?? 0);
    if (reasoning >= 2 && score >= s.reasoningOverrideMinScore)
      return { tier: 'REASONING', score, cause: 'reasoning_override', signals, escalated };
    const b = s.boundaries;
    const tier: Tier =
      score < b.simple_medium
        ? 'SIMPLE'
        : score < b.medium_complex
          ? 'MEDIUM'
          : score < b.complex_reasoning
            ? 'COMPLEX'
            : 'REASONING';
    return { tier, score, cause: 'heuristic_scorer', signals, escalated };
  }
}
