import { UseLiteEncoder } from './src/embeddings/use-lite/encoder.js';
import { CachedEncoder } from './src/embeddings/cache.js';
import { loadDataset, runProtocol } from './src/semantic/protocol.js';
const enc = new CachedEncoder(await UseLiteEncoder.load(), 100000);
const ds = await loadDataset('../shared/datasets/clinc150/clinc150_normalized.json');
for (const shots of [10, 30] as const) for (const [f, obj] of [[false,'accuracy'],[true,'accuracy'],[false,'balanced'],[true,'balanced']] as const) {
  const t = performance.now();
  const r = await runProtocol(ds, { shots, index: 'exact', fit: f, objective: obj, encoder: enc });
  console.log(shots, f, obj, r.aggregation, r.topK, r.globalThreshold.toFixed(3), 'shrink', r.shrinkage, (r.test.inScopeAccuracy*100).toFixed(1), ((r.test.oosRecall??0)*100).toFixed(1), (r.test.accuracy*100).toFixed(1), ((performance.now()-t)/1000).toFixed(1)+'s');
}
