// The route page: plain DOM, no framework, no build; one ES module per concern in this folder.
import { api } from './api.js';
import { refreshDecisions } from './decisions.js';
import { $, el } from './dom.js';
import { renderRoutes, selectRouter } from './editor.js';
import { clearProblems, showProblems } from './problems.js';
import { currentRouter, isDirty, markDirty, setStatus, state } from './state.js';
import { lintRoutes } from './lint.js';
import { refreshDrift } from './drift.js';
import { tryPrompt } from './try.js';

async function loadState(keepSelection) {
  const { data } = await api('GET', '/ui/api/state');
  state.routers = data.routers;
  state.models = data.models;
  state.builtinSlots = data.builtin_slots;
  state.logPrompts = data.log_prompts;
  const select = $('#router-select');
  select.replaceChildren(...data.routers.map((r) => el('option', { value: r.model }, r.model)));
  const chosen =
    keepSelection && data.routers.some((r) => r.model === state.current)
      ? state.current
      : data.routers[0]?.model;
  if (chosen !== undefined) select.value = chosen;
  selectRouter(chosen);
  $('#prompts-note').textContent = data.log_prompts
    ? ''
    : ' (prompt text is not kept: general_settings.log_prompts is off)';
}

async function save() {
  const router = currentRouter();
  if (!router?.editable) return;
  setStatus('Saving…');
  // The version this page loaded: a save over someone else's is refused (409) instead of lost.
  const { ok, data } = await api(
    'PUT',
    `/ui/api/routers/${encodeURIComponent(router.model)}`,
    { config: state.draft },
    router.version ? { 'if-match': router.version } : {},
  );
  if (!ok) {
    showProblems(data.errors ?? [{ path: '', message: data.error?.message ?? 'Save failed' }]);
    setStatus(
      `Not saved: ${(data.errors ?? []).length || 1} problem(s). The file and the serving routes are unchanged.`,
      'bad',
    );
    return;
  }
  clearProblems();
  router.version = data.version;
  state.saved = JSON.stringify(state.draft);
  router.config = structuredClone(state.draft);
  markDirty();
  setStatus(`Saved ${data.file} (previous version kept as ${data.backup}); the proxy now serves it.`, 'good');
}

$('#router-select').addEventListener('change', (event) => {
  if (isDirty() && !window.confirm('Discard unsaved changes?')) {
    event.target.value = state.current;
    return;
  }
  selectRouter(event.target.value);
});
$('#add-route').addEventListener('click', () => {
  state.draft.routes.push({ name: '', utterances: [''] });
  markDirty();
  renderRoutes({ route: state.draft.routes.length - 1 });
});
$('#revert').addEventListener('click', () => selectRouter(state.current));
$('#save').addEventListener('click', save);
$('#try-form').addEventListener('submit', tryPrompt);
$('#lint-run').addEventListener('click', () => void lintRoutes());
$('#drift-run').addEventListener('click', () => void refreshDrift());
window.addEventListener('beforeunload', (event) => {
  if (state.draft && isDirty()) event.preventDefault();
});

await loadState(false);
await refreshDecisions();
setInterval(() => void refreshDecisions().catch(() => {}), 5000);
document.body.dataset.ready = 'true';
