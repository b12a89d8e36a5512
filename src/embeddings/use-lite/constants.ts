/** What the USE-lite model is, without loading the converter (protobuf) that builds it. */

/** Bump when the graph the converter emits changes, so that installed models are rebuilt. */
export const CONVERTER_VERSION = 5;
export const USE_LITE_DIMENSIONS = 512;
