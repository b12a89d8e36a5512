/** The prompt's language, offline, in every decision; routes bound to languages take their traffic on purpose. */
import { describe, expect, it } from 'vitest';
import { detectLanguage, languageCode, languageDetector } from '../../src/semantic/language.js';
import { SemanticRouter } from '../../src/semantic/semantic-router.js';
import { useLite } from '../helpers/encoder.js';

const GERMAN = [
  'Wie spät ist es in Berlin heute?',
  'Ich brauche Hilfe mit meinem Python-Code',
  'Kannst du mir einen Witz erzählen?',
  'Wie wird das Wetter morgen?',
  'Buche mir einen Flug nach München',
  'Was ist die Hauptstadt von Frankreich?',
  'Ich habe mein Passwort vergessen',
  'Wie viel kostet das?',
];
const SPANISH = [
  '¿Cuál es la capital de Francia?',
  '¿Qué tiempo hará mañana?',
  'Necesito ayuda con mi código',
  'Reserva una mesa para dos personas',
  'Olvidé mi contraseña',
  'Cuéntame un chiste',
];
const FRENCH = [
  'Quelle est la météo demain à Paris ?',
  "J'ai besoin d'aide avec mon code",
  'Réserve une table pour deux',
  "J'ai oublié mon mot de passe",
];
const ENGLISH = [
  'how do I reverse a list in python',
  'what is the weather like in tokyo tomorrow',
  'fix this bug in my code',
  'tell me a joke',
  'book me a flight to munich',
  'I forgot my password',
];

describe('detectLanguage', () => {
  it('tells German, Spanish, French and English apart among the languages routes name', async () => {
    const franc = await languageDetector();
    const among = ['deu', 'spa', 'fra'];
    for (const t of GERMAN) expect(detectLanguage(franc, t, among), t).toBe('deu');
    for (const t of SPANISH) expect(detectLanguage(franc, t, among), t).toBe('spa');
    for (const t of FRENCH) expect(detectLanguage(franc, t, among), t).toBe('fra');
    for (const t of ENGLISH) expect(detectLanguage(franc, t, among), t).toBe('eng');
  });

  it('settles plain English by its own words, and leaves words other languages share to the profiles', async () => {
    const franc = await languageDetector();
    // "is", "in", "was", "will" are Dutch and German words too: they never make the call alone.
    expect(detectLanguage(franc, 'Hoe laat is het in Amsterdam vandaag', ['nld'])).toBe('nld');
    expect(detectLanguage(franc, 'Was will er in Berlin machen', ['deu'])).toBe('deu');
    expect(detectLanguage(franc, 'can you tell me what the time is', ['deu', 'nld'])).toBe('eng');
    // Not plain ASCII: the profiles decide.
    expect(detectLanguage(franc, 'Kannst du mir sagen, wie spät es ist? Ich weiß es nicht', ['deu'])).toBe(
      'deu',
    );
  });

  it('knows scripts whatever the length, and says und when there is nothing to go on', async () => {
    const franc = await languageDetector();
    expect(detectLanguage(franc, '今天天气怎么样')).toBe('cmn');
    expect(detectLanguage(franc, '東京の天気はどうですか')).toBe('jpn');
    expect(detectLanguage(franc, '오늘 날씨 어때')).toBe('kor');
    expect(detectLanguage(franc, '42')).toBe('und');
  });

  it('reads route language codes in two or three letters', () => {
    expect(languageCode('de')).toBe('deu');
    expect(languageCode('DEU')).toBe('deu');
    expect(languageCode('zh')).toBe('cmn');
    expect(languageCode('toString')).toBeUndefined();
    expect(languageCode('xx')).toBeUndefined();
  });
});

describe('routes bound to languages (metadata.languages)', () => {
  it('take the prompts in their language that no route matched; English traffic never reaches them', async () => {
    const router = await SemanticRouter.fromConfig(
      {
        routes: [
          { name: 'coding', utterances: ['how do I reverse a list in python', 'fix this bug in my code'] },
          { name: 'weather', utterances: ['what is the weather like tomorrow', 'will it rain today'] },
          { name: 'german', description: 'Deutsch', utterances: [], metadata: { languages: ['de'] } },
          { name: 'chinese', description: '中文', utterances: [], metadata: { languages: ['zh', 'cmn'] } },
        ],
      },
      { encoder: await useLite(), cacheDir: false },
    );
    try {
      for (const t of GERMAN) {
        const r = await router.route(t);
        expect(r.language, t).toBe('deu');
        expect(r.name, t).toBe('german');
      }
      for (const t of ENGLISH.slice(0, 3)) {
        const r = await router.route(t);
        expect(r.language, t).toBe('eng');
        expect(r.name, t).not.toBe('german');
        expect(
          r.candidates.map((c) => c.route),
          t,
        ).not.toContain('german');
      }
      expect((await router.route('how do I reverse a list in python')).name).toBe('coding');
      // A Chinese prompt the English encoder cannot read still goes to the Chinese route.
      const zh = await router.route('今天天气怎么样');
      expect(zh).toMatchObject({ name: 'chinese', reason: 'language', language: 'cmn' });
      // Spanish: no route names it (the guess is made among English and the routes' languages,
      // so it is not told apart), no route takes it: the default, as before.
      const es = await router.route('¿Cuál es la capital de Francia?');
      expect(['deu', 'cmn']).not.toContain(es.language);
      expect(es.name).toBeNull();
    } finally {
      await router.close();
    }
  });

  it('an English router reports the language of every decision and routes as it did', async () => {
    const router = await SemanticRouter.fromConfig(
      { routes: [{ name: 'coding', utterances: ['how do I reverse a list in python'] }] },
      { encoder: await useLite(), cacheDir: false },
    );
    try {
      const r = await router.route('how do I sort a list in python');
      expect({ name: r.name, reason: r.reason, language: r.language }).toEqual({
        name: 'coding',
        reason: 'matched',
        language: 'eng',
      });
      expect((await router.route('Wie spät ist es in Berlin heute?')).reason).toBe('below_threshold');
      // A caller that does without the language (the command line) gets und and the same decision.
      const without = await router.route('how do I sort a list in python', { language: false });
      expect({ name: without.name, score: without.score, language: without.language }).toEqual({
        name: 'coding',
        score: r.score,
        language: 'und',
      });
      const many = await router.routeMany(['how do I sort a list in python'], { language: false });
      expect(many[0]!.language).toBe('und');
      await expect(router.route('hi', { language: 'no' as unknown as boolean })).rejects.toMatchObject({
        code: 'SEMROUTE_INPUT_INVALID',
        path: 'language',
      });
    } finally {
      await router.close();
    }
  });

  it('a router with routes bound to languages detects the language even when asked not to', async () => {
    const router = await SemanticRouter.fromConfig(
      {
        routes: [
          { name: 'coding', utterances: ['how do I reverse a list in python'] },
          { name: 'german', description: 'Deutsch', utterances: [], metadata: { languages: ['de'] } },
        ],
      },
      { encoder: await useLite(), cacheDir: false },
    );
    try {
      const r = await router.route(GERMAN[0]!, { language: false });
      expect({ name: r.name, language: r.language }).toEqual({ name: 'german', language: 'deu' });
    } finally {
      await router.close();
    }
  });
});
