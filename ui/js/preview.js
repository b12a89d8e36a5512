// Template previews: the variants an utterance expands into, asked of the server as you type.
import { api } from './api.js';
import { el } from './dom.js';
import { state } from './state.js';

const previewTimers = new Map();

export function previewUtterance(routeIndex, utteranceIndex, output) {
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
