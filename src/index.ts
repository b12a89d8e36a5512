/** The public surface of semroute. Anything not exported here is internal. */
export { SemanticRouter } from './semantic/semantic-router.js';
export type {
  RouteCandidate,
  RouteOptions,
  RouteResult,
  SemanticRouterOptions,
} from './semantic/semantic-router.js';
export type { ChatMessageLike, RouteInput } from './semantic/messages.js';
export { evaluate, type LabelledRow, type Metrics } from './semantic/evaluate.js';
export { fit, type FitOptions, type FitResult } from './semantic/fit.js';
export { loadDataset, runProtocol, type Dataset, type ProtocolResult } from './semantic/protocol.js';
export {
  loadRouterConfig,
  validateRouterConfig,
  RouterConfigSchema,
  RouteSchema,
  type RouterConfig,
  type RouterConfigInput,
  type RouteConfig,
} from './config/router-config.js';
export { BUILTIN_SLOTS } from './config/slots.js';
export type { Encoder, EmbedOptions } from './embeddings/encoder.js';
export { createEncoder, type EncoderSpec } from './embeddings/create.js';
export { EncoderPool, type EncoderPoolOptions } from './embeddings/pool.js';
export { UseLiteEncoder, type UseLiteOptions } from './embeddings/use-lite/encoder.js';
export { OnnxEncoder, type OnnxEncoderOptions } from './embeddings/onnx.js';
export { OpenAIEncoder, type OpenAIEncoderOptions } from './embeddings/openai.js';
export { CachedEncoder } from './embeddings/cache.js';
export { ensureUseLiteModel } from './embeddings/use-lite/model-files.js';
export { pullModel, listModels } from './embeddings/pull.js';
export type { VectorIndex, SearchHits } from './vector-index/vector-index.js';
export { ExactIndex } from './vector-index/exact.js';
export { HnswIndex } from './vector-index/hnsw.js';
export { Gateway } from './gateway/gateway.js';
export type {
  ChatBody,
  ChatOutcome,
  GatewayEvents,
  GatewayIO,
  RequestOptions,
  Served,
} from './gateway/types.js';
export {
  parseGatewayConfig,
  GatewayConfigSchema,
  type GatewayConfig,
  type GatewayConfigInput,
} from './config/gateway-schema.js';
export { SemrouteError, UpstreamError, ErrorCode, isSemrouteError } from './errors.js';
