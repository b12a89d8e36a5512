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

/**
 * English words no other language franc knows writes as often (so not `a`, `in`, `is`, `was`,
 * `will`, `of`, `on`, `or`, `me`, `do`, `to`, `i`): in plain ASCII text, enough of them make the
 * call without the trigram profiles. On CLINC150's 5,500 English test prompts this settles 46%
 * of them, at 35 µs a prompt on average instead of 55 among the common languages (12 instead
 * of 23 among eng/deu/spa/fra). See docs/router-json.md, "Languages".
 */
const SURELY_ENGLISH = new Set(
  'the you your my this that what how when where why who which could would should does did are were please tell with have has and it can'.split(
    ' ',
  ),
);
const ASCII_TEXT = /^[\x20-\x7e\s]*$/;

/** Plain ASCII with at least two surely-English words making a quarter of its words. */
function plainlyEnglish(sample: string): boolean {
  if (!ASCII_TEXT.test(sample)) return false;
  const words = sample.toLowerCase().match(/[a-z']+/g);
  if (words === null || words.length < 2) return false;
  let sure = 0;
  for (const w of words) if (SURELY_ENGLISH.has(w)) sure++;
  return sure >= 2 && sure * 4 >= words.length;
}

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
 * short English less (English told right, before the plain-English shortcut: 92.7%, 89.6%, 86.4%;
 * with it and the close-call rule below, 94.1% among four and 92.1% among these).
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
 * The language of `text` among `among`, as `detectLanguage` says, importing franc only when
 * the plain-English shortcut does not settle it: a CLI run routing an English prompt never
 * pays franc's 14 ms of module start.
 */
export async function languageOf(text: string, among: readonly string[] = []): Promise<string> {
  return plainlyEnglish(sampleOf(text)) ? 'eng' : detectLanguage(await languageDetector(), text, among);
}

const sampleOf = (text: string) => (text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) : text);

/**
 * The language of `text` among `among` (ISO 639-3; English always included), or among the
 * common languages when `among` is empty.
 */
export function detectLanguage(franc: FrancAll, text: string, among: readonly string[] = []): string {
  const sample = sampleOf(text);
  if (plainlyEnglish(sample)) return 'eng';
  const only = among.length === 0 ? COMMON : [...new Set(['eng', ...among])];
  const ranked = franc(sample, { minLength: 3, only });
  const top = ranked[0];
  if (top === undefined || top[0] === 'und') return 'und';
  if (top[0] === 'eng') return 'eng';
  // A close call with English and English function words in the text: English.
  const english = ranked.find(([code]) => code === 'eng')?.[1] ?? 0;
  const words = sample.toLowerCase().match(/[a-z']+/g) ?? [];
  // Words other languages write too (`was`, `will`, `in`) count only beside one only English writes.
  const functionWords = words.filter((w) => ENGLISH_WORDS.has(w)).length;
  const sure = words.some((w) => SURELY_ENGLISH.has(w));
  if (english >= 0.75 && sure && functionWords >= Math.max(1, words.length / 4)) return 'eng';
  return top[0];
}
