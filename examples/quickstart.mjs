import { evaluate, fit, SemanticRouter } from 'semroute';

// The example routes shipped with semroute (in your project, your own router.json path).
const router = await SemanticRouter.fromFile(import.meta.resolve('semroute/routes/assistant.json')); // compiles once, then loads from cache

const decision = await router.route('translate this email into German');
console.log(decision.name); // 'translation'  (null when no route passes: use decision.defaultRoute)
console.log(decision.score, decision.threshold, decision.matched?.template);

// OpenAI-style messages work too: the last user message is routed (text parts only).
const math = await router.route([{ role: 'user', content: [{ type: 'text', text: 'what is 17 * 23?' }] }]);
console.log(math.name); // 'math'

// Change routes without a rebuild: only new utterances are embedded.
await router.addRoute({
  name: 'recipes',
  utterances: ['how do I bake [dish]'],
  slots: { dish: ['bread', 'a cake'] },
});
console.log((await router.route('how do I bake a cake')).name); // 'recipes'

// Fit per-route thresholds (and the aggregation) on labelled rows; saved with the compiled index.
const rows = [
  { text: 'refund please, the order never arrived', label: 'support' },
  { text: 'who won the 1998 world cup', label: null },
];
await fit(router, rows);
console.log(await evaluate(router, rows)); // accuracy, in-scope accuracy, OOS recall, confusion
await router.close();
