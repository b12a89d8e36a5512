import { ExactIndex } from '../../src/vector-index/exact.js';
import { runVectorIndexConformance } from './vector-index.case.js';

runVectorIndexConformance(
  'exact',
  (d) => new ExactIndex(d, 4),
  (file) => ExactIndex.load(file),
);
