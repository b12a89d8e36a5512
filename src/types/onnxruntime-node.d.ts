/**
 * onnxruntime-node 1.17.0 ships without its `.d.ts` (its API is onnxruntime-common's, re-exported).
 * 1.17.0 is pinned because it is the newest release whose install downloads nothing: later ones
 * fetch CUDA libraries from NuGet in a postinstall, which fails offline for anyone installing
 * semroute as a dependency (see README, "Set up and test").
 */
declare module 'onnxruntime-node' {
  export * from 'onnxruntime-common';
}
