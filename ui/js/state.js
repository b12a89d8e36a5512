// What the page holds: the routers of the config, the one being edited and its unsaved draft.
import { $ } from './dom.js';

export const state = {
  routers: [],
  models: [],
  current: undefined,
  draft: undefined,
  saved: '',
  logPrompts: false,
  builtinSlots: [],
};

export function currentRouter() {
  return state.routers.find((r) => r.model === state.current);
}

export function markDirty() {
  const dirty = isDirty();
  $('#dirty').hidden = !dirty;
  $('#try-mode').textContent = dirty ? 'trying your unsaved edits' : 'trying the saved routes';
}

export function setStatus(text, kind = '') {
  const status = $('#status');
  status.textContent = text;
  status.className = `status ${kind}`;
}

/** Whether the draft differs from what was loaded or saved. */
export const isDirty = () => JSON.stringify(state.draft) !== state.saved;
