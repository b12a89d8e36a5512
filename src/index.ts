/**
 * The public surface of semroute: what users call, and the types of every documented extension
 * point (an encoder, a vector index, a balancing strategy, a state store, lifecycle listeners).
 * Anything not exported here is internal and may change in any release; `test/public-api.test.ts`
 * fails when this surface changes without the CHANGELOG saying so.
 */

// The semantic router.
export { SemanticRouter } from './semantic/semantic-router.js';
export type {
  RouteCandidate,
  RouteOptions,
  RouteResult,
  RouterInspection,
  Scoring,
  SemanticRouterOptions,
} from './semantic/semantic-router.js';
export type { ChatMessageLike, RouteInput } from './semantic/messages.js';
export { evaluate, type LabelledRow, type Metrics } from './semantic/evaluate.js';
export { fit, type FitOptions, type FitResult } from './semantic/fit.js';
export { loadDataset, runProtocol, type Dataset, type ProtocolResult } from './semantic/protocol.js';

// router.json.
export {
  loadRouterConfig,
  validateRouterConfig,
  type RouterConfig,
  type RouterConfigInput,
  type RouteConfig,
} from './config/router-config.js';
export { BUILTIN_SLOTS } from './config/slots.js';

// Encoders (extension point: implement `Encoder`, or ask `createEncoder` for a built-in one).
export type { Encoder, EmbedOptions } from './embeddings/encoder.js';
export { createEncoder, type EncoderSpec } from './embeddings/create.js';
export { EncoderPool, type EncoderPoolOptions } from './embeddings/pool.js';
export type { UseLiteOptions, UseLitePrecision } from './embeddings/use-lite/encoder.js';

// Vector indexes (extension point).
export type { VectorIndex, SearchHits } from './vector-index/vector-index.js';

// The gateway.
export { Gateway } from './gateway/gateway.js';
export type {
  ChatBody,
  ChatChunk,
  ChatCompletion,
  ChatOutcome,
  Completion,
  EmbeddingResponse,
  GatewayIO,
  RequestOptions,
  Served,
} from './gateway/types.js';
export type { Deployment, DeploymentInfo } from './gateway/deployment.js';
export type { Plan } from './gateway/plan/resolve.js';
export type { CostDecision } from './gateway/plan/complexity.js';
export {
  parseGatewayConfig,
  type GatewayConfig,
  type GatewayConfigInput,
} from './config/gateway-schema.js';

// The request context and lifecycle events (extension point: listeners).
export {
  createContext,
  requestId,
  type Caller,
  type ContextInit,
  type RequestContext,
} from './gateway/context.js';
export {
  combineEvents,
  type Attempt,
  type AttemptOutcome,
  type CooldownEvent,
  type EventListeners,
  type Finished,
  type GatewayEvents,
  type PlannedRequest,
  type Success,
  type TokenUsage,
} from './gateway/events.js';

// Balancing strategies (extension point: `GatewayIO.strategies`).
export type { BalancingStrategy, StrategyInput, StrategyOptions } from './gateway/strategies/strategy.js';

// State stores (extension point: one interface per purpose; `GatewayIO.store`).
export type {
  ConversationStore,
  CooldownStore,
  Limits,
  ResponseCacheStore,
  SessionStore,
  StateStore,
  StickyStore,
  StoreStatus,
  Usage,
  UsageCounters,
} from './gateway/state/state-store.js';

// Cost-quality routing: difficulty models and LiteLLM's complexity heuristic.
export {
  calibrate,
  type CalibrateOptions,
  type Calibration,
  type GradedRow,
  type Target,
} from './difficulty/calibrate.js';
export { loadDifficultyModel } from './difficulty/default-model.js';
export type { DifficultyModel, OperatingPoint, Prediction } from './difficulty/model.js';
export { askOf, type Ask } from './difficulty/features.js';
export { ComplexityClassifier, type ComplexityDecision, type Tier } from './difficulty/complexity.js';
export { costQualityCurve, type Curve, type CurveSummary } from './difficulty/curve.js';

// Errors.
export {
  SemrouteError,
  UpstreamError,
  ErrorCode,
  isSemrouteError,
  type SemrouteErrorOptions,
  type UpstreamErrorKind,
} from './errors.js';
