// The route editor: router defaults, routes, utterances (with template previews), metadata.
import { $, el, field, nextId, optionalInput, THRESHOLD } from './dom.js';
import { previewUtterance } from './preview.js';
import { clearProblems } from './problems.js';
import { currentRouter, markDirty, state } from './state.js';

export function renderDefaults() {
  const router = currentRouter();
  const draft = state.draft;
  const box = $('#defaults');
  if (!router || !draft) {
    box.replaceChildren();
    return;
  }
  const threshold = optionalInput(
    draft,
    'score_threshold',
    { ...THRESHOLD, placeholder: '0.5' },
    markDirty,
    Number,
  );
  const fallback = optionalInput(
    draft,
    'default_route',
    { placeholder: router.default_model ?? '' },
    markDirty,
  );
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

export function renderRoutes(focus) {
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
        markDirty,
        Number,
      );
      const description = optionalInput(route, 'description', { rows: 2 }, markDirty, undefined, 'textarea');
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
      const metadataId = nextId();
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
          const id = nextId();
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

export function selectRouter(model) {
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
