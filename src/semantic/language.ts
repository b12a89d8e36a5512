/**
 * The language a prompt is written in, offline: franc-min (MIT; trigram profiles of 82
 * languages shipped in the package, nothing downloaded), loaded on the first prompt. Codes are
 * ISO 639-3 (`eng`, `deu`, `cmn`), `und` when the text is too short or unclear.
 *
 * Prompts are short, and trigram profiles confuse short English with its neighbours (CLINC150's
 * English test set: 70% `eng` as franc-min says alone). Two things make it usable for routing:
 * the guess is made only among English and the languages the routes name (`only`), and English
 * function words tip a close call to English. Measured in docs/router-json.md.
 */

type FrancAll = (text: string, options?: { only?: string[]; minLength?: number }) => Array<[string, number]>;

let loading: Promise<FrancAll> | undefined;

/** franc-min, imported once, on the first prompt that needs it (about 10 MB, 50 ms). */
export function languageDetector(): Promise<FrancAll> {
  loading ??= import('franc-min').then((m) => m.francAll as FrancAll);
  return loading;
}

/** Characters of a prompt looked at: its language shows in far fewer. */
const SAMPLE_CHARS = 512;

const ENGLISH_WORDS = new Set(
  'the a an is are was were do does did i you my me your it its this that what how when where why who which can could would will should to of in on for with and or not be have has please tell'.split(
    ' ',
  ),
);

/** ISO 639-1 names for the languages people route on most, to their 639-3 code. */
const TWO_LETTER: Readonly<Record<string, string>> = {
  en: 'eng',
  de: 'deu',
  es: 'spa',
  fr: 'fra',
  it: 'ita',
  pt: 'por',
  nl: 'nld',
  ru: 'rus',
  uk: 'ukr',
  pl: 'pol',
  cs: 'ces',
  sv: 'swe',
  ro: 'ron',
  hu: 'hun',
  tr: 'tur',
  ar: 'arb',
  fa: 'pes',
  hi: 'hin',
  bn: 'ben',
  ur: 'urd',
  zh: 'cmn',
  ja: 'jpn',
  ko: 'kor',
  vi: 'vie',
  th: 'tha',
  id: 'ind',
  ms: 'zlm',
  el: 'ell',
  he: 'heb',
  sw: 'swh',
};

/** A language code as a route may write it (`de`, `deu`, `DE`), as franc names it; undefined if unknown. */
export function languageCode(code: string): string | undefined {
  const lower = code.trim().toLowerCase();
  if (/^[a-z]{3}$/.test(lower)) return lower;
  return Object.hasOwn(TWO_LETTER, lower) ? TWO_LETTER[lower] : undefined;
}

/**
 * What a prompt's language is told among when no route names one (for the decision's report):
 * the most spoken languages with a web presence. Fewer profiles are faster (on CLINC150's test
 * prompts: 22 µs a prompt among four, 30 µs among these 18, 101 µs among all 82) and confuse
 * short English less (English told right: 92.7%, 89.6%, 86.4%).
 */
const COMMON = [
  'eng',
  'spa',
  'fra',
  'deu',
  'ita',
  'por',
  'nld',
  'rus',
  'pol',
  'ukr',
  'tur',
  'arb',
  'hin',
  'cmn',
  'jpn',
  'kor',
  'vie',
  'ind',
];

/**
 * The language of `text` among `among` (ISO 639-3; English always included), or among the
 * common languages when `among` is empty.
 */
export function detectLanguage(franc: FrancAll, text: string, among: readonly string[] = []): string {
  const sample = text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) : text;
  const only = among.length === 0 ? COMMON : [...new Set(['eng', ...among])];
  const ranked = franc(sample, { minLength: 3, only });
  const top = ranked[0];
  if (top === undefined || top[0] === 'und') return 'und';
  if (top[0] === 'eng') return 'eng';
  // A close call with English and English function words in the text: English.
  const english = ranked.find(([code]) => code === 'eng')?.[1] ?? 0;
  const words = sample.toLowerCase().match(/[a-z']+/g) ?? [];
  const functionWords = words.filter((w) => ENGLISH_WORDS.has(w)).length;
  if (english >= 0.75 && functionWords >= Math.max(1, words.length / 4)) return 'eng';
  return top[0];
}
