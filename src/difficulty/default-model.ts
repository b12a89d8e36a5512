/**
 * The difficulty model shipped in the package (`data/difficulty-default.json`): trained only on
 * public data, RouteLLM's graded MMLU and GSM8K answers (datasets/routellm-outcomes, Apache-2.0),
 * by `scripts/train-default-difficulty.ts`. It is mostly prompt length with a small embedding
 * term: what held up on traffic of another kind than it was trained on (README, "Cost-quality
 * routing"). Calibrating on your own graded traffic is what buys real savings.
 */
import path from 'node:path';
import { PACKAGE_ROOT } from '../internal/paths.js';
import { DifficultyModel } from './model.js';

export const DEFAULT_DIFFICULTY_FILE = path.join(PACKAGE_ROOT, 'data', 'difficulty-default.json');

let loaded: Promise<DifficultyModel> | undefined;

/** The shipped default, read once per process. */
export function defaultDifficultyModel(): Promise<DifficultyModel> {
  loaded ??= DifficultyModel.load(DEFAULT_DIFFICULTY_FILE);
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}

/** `default` or a folder: the model. */
export function loadDifficultyModel(where: string): Promise<DifficultyModel> {
  return where === 'default' ? defaultDifficultyModel() : DifficultyModel.load(where);
}
