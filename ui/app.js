// The route page. Plain DOM, no framework, no build. Every value from the server or the user is
// written with textContent or .value, never as HTML, so a route named <script> stays text.

const $ = (selector) => document.querySelector(selector);

/** Creates an element: el('li', {className: 'x'}, child, 'text', …). */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('aria') || key === 'for' || key === 'role')
      node.setAttribute(
        key === 'for' ? 'for' : key.replace(/^aria([A-Z])/, (_, c) => `aria-${c.toLowerCase()}`),
        value,
      );
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const state = {
  routers: [],
  models: [],
  current: undefined,
  draft: undefined,
  saved: '',
  logPrompts: false,
};
let uid = 0;

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (response.status === 401) {
    window.location.assign('/ui');
    throw new Error('signed out');
  }
  const data = response.status === 204 ? {} : await response.json();
  return { ok: response.ok, status: response.status, data };
}

function currentRouter() {
  return state.routers.find((r) => r.model === state.current);
}

function markDirty() {
  const dirty = JSON.stringify(state.draft) !== state.saved;
  $('#dirty').hidden = !dirty;
  $('#try-mode').textContent = dirty ? 'trying your unsaved edits' : 'trying the saved routes';
}

function setStatus(text, kind = '') {
  const status = $('#status');
  status.textContent = text;
  status.className = `status ${kind}`;
}

// ---------- problems beside the fields ----------

function clearProblems() {
  for (const node of document.querySelectorAll('[data-error-for]')) node.textContent = '';
  for (const node of document.querySelectorAll('[aria-invalid="true"]')) node.removeAttribute('aria-invalid');
  $('#problems').replaceChildren();
}

function showProblems(problems) {
  clearProblems();
  for (const problem of problems) {
    const path = problem.path ?? '';
    // The closest field that shows errors: the path itself, or its parents.
    let target;
    for (let p = path; p !== '' && target === undefined; p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '')) {
      target = document.querySelector(`[data-error-for="${CSS.escape(p)}"]`) ?? undefined;
      if (p === p.replace(/(\.[^.[\]]+|\[\d+\])$/, '')) break;
    }
    if (target) {
      target.textContent = target.textContent ? `${target.textContent} ${problem.message}` : problem.message;
      const field = document.getElementById(target.dataset.field ?? '');
      field?.setAttribute('aria-invalid', 'true');
    }
    $('#problems').append(el('li', {}, el('code', {}, path || '(file)'), ' ', problem.message));
  }
}

// ---------- template previews ----------

const previewTimers = new Map();

function previewUtterance(routeIndex, utteranceIndex, output) {
  const key = `${routeIndex}:${utteranceIndex}`;
  clearTimeout(previewTimers.get(key));
  previewTimers.set(
    key,
    setTimeout(async () => {
      const route = state.draft.routes[routeIndex];
      const text = route?.utterances?.[utteranceIndex];
      if (typeof text !== 'string' || !text.includes('[')) {
        output.replaceChildren();
        return;
      }
      const slots = { ...(state.draft.slots ?? {}), ...(route.slots ?? {}) };
      const { data } = await api('POST', '/ui/api/expand', {
        template: text,
        slots,
        limit: state.draft.template_limit ?? 1000,
      });
      if (data.error) {
        output.replaceChildren(el('p', { className: 'error' }, data.error.message));
        return;
      }
      if (!data.template) {
        output.replaceChildren();
        return;
      }
      const more = data.total - data.variants.length;
      output.replaceChildren(
        el('p', { className: 'muted' }, `${data.total} variant${data.total === 1 ? '' : 's'}`),
        el(
          'ul',
          { className: 'variants' },
          data.variants.map((v) => el('li', {}, v)),
        ),
        // replaceChildren would write null as the text "null".
        ...(more > 0 ? [el('p', { className: 'muted' }, `… and ${more} more`)] : []),
      );
    }, 200),
  );
}

// ---------- the editor ----------

/** An input bound to an optional key of `target`: empty deletes the key. */
function optionalInput(target, key, props, parse = (v) => v, tag = 'input') {
  const input = el(tag, { ...props, value: target[key] ?? '' });
  input.addEventListener('input', () => {
    if (input.value === '') delete target[key];
    else target[key] = parse(input.value);
    markDirty();
  });
  return input;
}

const THRESHOLD = { type: 'number', step: '0.01', min: '0', max: '1' };

function field(labelText, control, errorPath) {
  const id = control.id || `f${++uid}`;
  control.id = id;
  return el(
    'div',
    { className: 'field' },
    el('label', { for: id }, labelText),
    control,
    el('p', { className: 'error', dataset: { errorFor: errorPath, field: id } }),
  );
}

function renderDefaults() {
  const router = currentRouter();
  const draft = state.draft;
  const box = $('#defaults');
  if (!router || !draft) {
    box.replaceChildren();
    return;
  }
  const threshold = optionalInput(draft, 'score_threshold', { ...THRESHOLD, placeholder: '0.5' }, Number);
  const fallback = optionalInput(draft, 'default_route', { placeholder: router.default_model ?? '' });
  box.replaceChildren(
    field('Router threshold (routes without their own)', threshold, 'score_threshold'),
    field('Default route (when none passes)', fallback, 'default_route'),
    el(
      'p',
      { className: 'muted' },
      `Template slots: ${[...Object.keys(draft.slots ?? {}), ...state.builtinSlots].join(', ') || 'none'}. Write [slot] in an utterance.`,
    ),
  );
}

function renderRoutes(focus) {
  const draft = state.draft;
  const container = $('#routes');
  if (!draft) {
    container.replaceChildren(el('p', { className: 'muted' }, 'No editable router in this config.'));
    return;
  }
  container.replaceChildren(
    ...draft.routes.map((route, r) => {
      const label = route.name || `route ${r + 1}`;
      const name = el('input', { value: route.name ?? '', required: true, autocomplete: 'off' });
      name.addEventListener('input', () => {
        route.name = name.value;
        heading.textContent = name.value || `route ${r + 1}`;
        markDirty();
      });
      const heading = el('h3', {}, label);
      const threshold = optionalInput(
        route,
        'score_threshold',
        { ...THRESHOLD, placeholder: 'router default' },
        Number,
      );
      const description = optionalInput(route, 'description', { rows: 2 }, undefined, 'textarea');
      const metadata = el('textarea', {
        rows: 2,
        className: 'mono',
        value: route.metadata === undefined ? '' : JSON.stringify(route.metadata),
        placeholder: '{"models": ["anthropic/*"]}',
      });
      const metadataError = el('p', { className: 'error', dataset: { errorFor: `routes[${r}].metadata` } });
      metadata.addEventListener('input', () => {
        metadataError.textContent = '';
        if (metadata.value.trim() === '') {
          delete route.metadata;
        } else {
          try {
            route.metadata = JSON.parse(metadata.value);
          } catch {
            metadataError.textContent = 'Not valid JSON yet';
            return;
          }
        }
        markDirty();
      });
      const metadataId = `f${++uid}`;
      metadata.id = metadataId;
      metadataError.dataset.field = metadataId;

      const utterances = el(
        'ol',
        { className: 'utterances' },
        route.utterances.map((text, u) => {
          const input = el('input', { value: text, autocomplete: 'off', className: 'utterance' });
          const output = el('div', { className: 'preview', ariaLive: 'polite' });
          input.addEventListener('input', () => {
            route.utterances[u] = input.value;
            markDirty();
            previewUtterance(r, u, output);
          });
          const remove = el(
            'button',
            {
              type: 'button',
              className: 'secondary small',
              ariaLabel: `Remove utterance ${u + 1} of ${label}`,
            },
            'Remove',
          );
          remove.addEventListener('click', () => {
            route.utterances.splice(u, 1);
            markDirty();
            renderRoutes({ route: r, utterance: Math.max(0, u - 1) });
          });
          const id = `f${++uid}`;
          input.id = id;
          if (text.includes('[')) previewUtterance(r, u, output);
          return el(
            'li',
            {},
            el('label', { for: id, className: 'visually-hidden' }, `Utterance ${u + 1} of ${label}`),
            el('div', { className: 'row' }, input, remove),
            el('p', {
              className: 'error',
              dataset: { errorFor: `routes[${r}].utterances[${u}]`, field: id },
            }),
            output,
          );
        }),
      );
      const addUtterance = el('button', { type: 'button', className: 'secondary' }, 'Add utterance');
      addUtterance.addEventListener('click', () => {
        route.utterances.push('');
        markDirty();
        renderRoutes({ route: r, utterance: route.utterances.length - 1 });
      });
      const remove = el(
        'button',
        { type: 'button', className: 'danger small', ariaLabel: `Delete route ${label}` },
        'Delete route',
      );
      remove.addEventListener('click', () => {
        if (!window.confirm(`Delete the route "${label}"?`)) return;
        draft.routes.splice(r, 1);
        markDirty();
        renderRoutes();
      });
      return el(
        'article',
        { className: 'route', dataset: { route: String(r) } },
        el('div', { className: 'route-head' }, heading, remove),
        el('p', { className: 'error', dataset: { errorFor: `routes[${r}]` } }),
        el(
          'div',
          { className: 'grid2' },
          field('Name', name, `routes[${r}].name`),
          field('Threshold', threshold, `routes[${r}].score_threshold`),
        ),
        el('h4', {}, 'Utterances'),
        el('p', { className: 'error', dataset: { errorFor: `routes[${r}].utterances` } }),
        utterances,
        addUtterance,
        el(
          'details',
          {},
          el('summary', {}, 'Description and metadata'),
          field('Description', description, `routes[${r}].description`),
          el(
            'div',
            { className: 'field' },
            el('label', { for: metadataId }, 'Metadata (JSON)'),
            metadata,
            metadataError,
          ),
        ),
      );
    }),
  );
  if (focus) {
    const article = container.querySelector(`[data-route="${focus.route}"]`);
    const target =
      focus.utterance === undefined
        ? article?.querySelector('input')
        : article?.querySelectorAll('input.utterance')[focus.utterance];
    target?.focus();
  }
}

function selectRouter(model) {
  state.current = model;
  const router = currentRouter();
  state.draft = router?.config ? structuredClone(router.config) : undefined;
  if (state.draft && !Array.isArray(state.draft.routes)) state.draft.routes = [];
  state.saved = JSON.stringify(state.draft);
  $('#router-file').textContent = router
    ? router.file
      ? `${router.file}${router.editable ? '' : ' (read-only)'}`
      : 'inline in config.yaml (read-only)'
    : '';
  for (const id of ['#save', '#add-route', '#revert']) $(id).disabled = !router?.editable;
  clearProblems();
  renderDefaults();
  renderRoutes();
  markDirty();
}

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
  const { ok, data } = await api('PUT', `/ui/api/routers/${encodeURIComponent(router.model)}`, {
    config: state.draft,
  });
  if (!ok) {
    showProblems(data.errors ?? [{ path: '', message: data.error?.message ?? 'Save failed' }]);
    setStatus(
      `Not saved: ${(data.errors ?? []).length || 1} problem(s). The file and the serving routes are unchanged.`,
      'bad',
    );
    return;
  }
  clearProblems();
  state.saved = JSON.stringify(state.draft);
  router.config = structuredClone(state.draft);
  markDirty();
  setStatus(`Saved ${data.file} (previous version kept as ${data.backup}); the proxy now serves it.`, 'good');
}

// ---------- trying prompts ----------

function renderResult(data) {
  const result = $('#result');
  const passed = data.route !== null;
  const max = Math.max(1e-9, ...data.candidates.map((c) => c.score), data.threshold ?? 0);
  result.replaceChildren(
    el(
      'div',
      { className: `decision ${passed ? 'good' : 'muted-box'}` },
      el('p', { className: 'big' }, passed ? data.route : 'no route passed'),
      el(
        'p',
        {},
        data.score === null
          ? 'no score'
          : `score ${data.score.toFixed(4)} ${data.score >= (data.threshold ?? 0) ? '≥' : '<'} threshold ${Number(data.threshold).toFixed(2)}`,
      ),
      el(
        'p',
        {},
        'served by ',
        el('strong', {}, data.model),
        data.deployment ? ` (deployment ${data.deployment})` : '',
      ),
      data.matched
        ? el(
            'p',
            { className: 'muted' },
            'matched “',
            data.matched.utterance,
            '”',
            data.matched.template ? ` from template “${data.matched.template}”` : '',
          )
        : null,
      el(
        'p',
        { className: 'muted' },
        `${data.draft ? 'unsaved edits' : 'saved routes'} · ${data.timing_ms.toFixed(1)} ms`,
      ),
    ),
    el(
      'ol',
      { className: 'bars', ariaLabel: 'Top candidates' },
      data.candidates.map((c) => {
        const bar = el('span', { className: `fill ${c.score >= c.threshold ? 'pass' : ''}` });
        bar.style.width = `${Math.max(0, (c.score / max) * 100).toFixed(1)}%`;
        const mark = el('span', { className: 'mark' });
        mark.style.left = `${Math.max(0, (c.threshold / max) * 100).toFixed(1)}%`;
        return el(
          'li',
          {},
          el('span', { className: 'label' }, c.route),
          el('span', { className: 'track' }, bar, mark),
          el('span', { className: 'num' }, c.score.toFixed(3)),
        );
      }),
    ),
  );
}

async function tryPrompt(event) {
  event.preventDefault();
  const router = currentRouter();
  if (!router) return;
  const prompt = $('#prompt').value.trim();
  if (prompt === '') return;
  const dirty = JSON.stringify(state.draft) !== state.saved;
  $('#result').replaceChildren(el('p', { className: 'muted' }, 'Routing…'));
  const { ok, data } = await api('POST', '/ui/api/try', {
    model: router.model,
    prompt,
    ...(dirty ? { config: state.draft } : {}),
  });
  if (!ok) {
    if (data.errors) showProblems(data.errors);
    $('#result').replaceChildren(
      el(
        'p',
        { className: 'error' },
        data.errors ? 'Fix the problems in the routes first.' : (data.error?.message ?? 'Failed'),
      ),
    );
    return;
  }
  renderResult(data);
}

// ---------- decisions ----------

async function refreshDecisions() {
  const { data } = await api('GET', '/ui/api/decisions');
  const counts = Object.entries(data.counts).map(([router, byRoute]) => {
    const total = Object.values(byRoute).reduce((a, b) => a + b, 0);
    return el(
      'div',
      { className: 'count-block' },
      el(
        'h3',
        {},
        router,
        el('span', { className: 'muted' }, ` · ${total} request${total === 1 ? '' : 's'}`),
      ),
      el(
        'ol',
        { className: 'bars' },
        Object.entries(byRoute)
          .sort((a, b) => b[1] - a[1])
          .map(([route, n]) => {
            const bar = el('span', { className: 'fill' });
            bar.style.width = `${((n / total) * 100).toFixed(1)}%`;
            return el(
              'li',
              {},
              el('span', { className: 'label' }, route),
              el('span', { className: 'track' }, bar),
              el('span', { className: 'num' }, String(n)),
            );
          }),
      ),
    );
  });
  $('#counts').replaceChildren(
    ...(counts.length ? counts : [el('p', { className: 'muted' }, 'No requests routed yet.')]),
  );
  $('#recent tbody').replaceChildren(
    ...data.recent.map((d) =>
      el(
        'tr',
        {},
        el('td', {}, new Date(d.at).toLocaleTimeString()),
        el('td', {}, d.router),
        el(
          'td',
          {},
          d.route ?? '(default)',
          d.prompt ? el('div', { className: 'muted small' }, d.prompt) : null,
        ),
        el('td', { className: 'num' }, `${d.score.toFixed(3)} / ${d.threshold.toFixed(2)}`),
      ),
    ),
  );
}

// ---------- wiring ----------

$('#router-select').addEventListener('change', (event) => {
  if (JSON.stringify(state.draft) !== state.saved && !window.confirm('Discard unsaved changes?')) {
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
window.addEventListener('beforeunload', (event) => {
  if (state.draft && JSON.stringify(state.draft) !== state.saved) event.preventDefault();
});

await loadState(false);
await refreshDecisions();
setInterval(() => void refreshDecisions().catch(() => {}), 5000);
document.body.dataset.ready = 'true';
