/**
 * Built-in slot lists for utterance templates. A router's own `slots` (global or per route)
 * override these by name. Documented in README ("Built-in slots").
 */
const PROGRAMMING_LANGUAGES = [
  'Python',
  'JavaScript',
  'TypeScript',
  'Java',
  'C',
  'C++',
  'C#',
  'Go',
  'Rust',
  'Ruby',
  'PHP',
  'Swift',
  'Kotlin',
  'Scala',
  'R',
  'SQL',
  'Bash',
  'Haskell',
  'Lua',
  'Dart',
];

const HUMAN_LANGUAGES = [
  'English',
  'French',
  'German',
  'Spanish',
  'Italian',
  'Portuguese',
  'Dutch',
  'Russian',
  'Chinese',
  'Japanese',
  'Korean',
  'Arabic',
  'Hindi',
  'Turkish',
  'Polish',
  'Swedish',
];

export const BUILTIN_SLOTS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  /** Programming languages. LiteLLM's documented example uses `[language]` for coding. */
  language: PROGRAMMING_LANGUAGES,
  programming_language: PROGRAMMING_LANGUAGES,
  human_language: HUMAN_LANGUAGES,
  weekday: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
  month: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
});
