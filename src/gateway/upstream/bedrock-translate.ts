/**
 * Bedrock's Converse API is Anthropic's Messages API under other field names (content blocks
 * keyed by kind, camelCase, inference settings grouped), so a chat request goes OpenAI →
 * Messages (anthropic-translate.ts, which owns every OpenAI rule: system turns, merged roles, tool
 * results, images, response_format as a forced tool, unsupported parameters) → Converse here, and
 * answers come back Converse → Messages → OpenAI. Written from AWS's Converse / ConverseStream
 * reference. What Converse has no field for goes in `additionalModelRequestFields`, as AWS
 * documents for model-specific parameters (`top_k`, Claude's `thinking`).
 */
import { ErrorCode, SemrouteError } from '../../errors.js';

type Json = Record<string, unknown>;

const invalid = (path: string, message: string) =>
  new SemrouteError(ErrorCode.INPUT_INVALID, `${path}: ${message}`, { path });

const IMAGE_FORMATS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** One Messages content block as Converse's. */
function block(b: Json, path: string): Json | undefined {
  switch (b.type) {
    case 'text':
      return { text: String(b.text ?? '') };
    case 'image': {
      const source = (b.source ?? {}) as Json;
      if (source.type !== 'base64')
        throw invalid(path, 'Bedrock takes images as bytes: send a data: URL (base64), not a link');
      const format = IMAGE_FORMATS[String(source.media_type)];
      if (format === undefined) throw invalid(path, `Bedrock takes jpeg, png, gif or webp images`);
      return { image: { format, source: { bytes: source.data } } };
    }
    case 'document': {
      const source = (b.source ?? {}) as Json;
      if (source.type !== 'base64') throw invalid(path, 'Bedrock takes documents as bytes (base64)');
      return { document: { format: 'pdf', name: 'document', source: { bytes: source.data } } };
    }
    case 'tool_use':
      return { toolUse: { toolUseId: b.id, name: b.name, input: b.input ?? {} } };
    case 'tool_result': {
      const content = b.content;
      const parts = Array.isArray(content)
        ? (content as Json[]).map((c, i) => block(c, `${path}.content[${i}]`)).filter((c) => c !== undefined)
        : [{ text: typeof content === 'string' ? content : JSON.stringify(content ?? '') }];
      return {
        toolResult: {
          toolUseId: b.tool_use_id,
          content: parts,
          ...(b.is_error === true ? { status: 'error' } : {}),
        },
      };
    }
    case 'thinking':
      return {
        reasoningContent: { reasoningText: { text: String(b.thinking ?? ''), signature: b.signature } },
      };
    default:
      // Prompt-cache markers and block kinds Converse has no form for are left out.
      return undefined;
  }
}

const blocks = (list: unknown, path: string): Json[] =>
  (Array.isArray(list) ? (list as Json[]) : [])
    .map((b, i) => block(b, `${path}[${i}]`))
    .filter((b): b is Json => b !== undefined);

/** Messages fields Converse carries in its own places. */
const CONVERSE_OWN = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'temperature',
  'top_p',
  'stop_sequences',
  'tools',
  'tool_choice',
  'metadata',
  'stream',
]);

/** A Messages request (anthropic-translate.ts's output) as a Converse body; the model goes in the URL. */
export function toConverseRequest(messages: Json): Json {
  const out: Json = {
    messages: ((messages.messages ?? []) as Json[]).map((m, i) => ({
      role: m.role,
      content: blocks(m.content, `messages[${i}].content`),
    })),
  };
  const system = blocks(messages.system, 'system');
  if (system.length > 0) out.system = system;
  const inference: Json = {};
  if (messages.max_tokens !== undefined) inference.maxTokens = messages.max_tokens;
  if (messages.temperature !== undefined) inference.temperature = messages.temperature;
  if (messages.top_p !== undefined) inference.topP = messages.top_p;
  if (messages.stop_sequences !== undefined) inference.stopSequences = messages.stop_sequences;
  if (Object.keys(inference).length > 0) out.inferenceConfig = inference;
  const tools = messages.tools as Json[] | undefined;
  if (tools !== undefined && tools.length > 0) {
    const choice = messages.tool_choice as Json | undefined;
    out.toolConfig = {
      tools: tools.map((t) => ({
        toolSpec: {
          name: t.name,
          ...(t.description === undefined ? {} : { description: t.description }),
          inputSchema: { json: t.input_schema ?? { type: 'object' } },
        },
      })),
      ...(choice?.type === 'auto'
        ? { toolChoice: { auto: {} } }
        : choice?.type === 'any'
          ? { toolChoice: { any: {} } }
          : choice?.type === 'tool'
            ? { toolChoice: { tool: { name: choice.name } } }
            : {}),
    };
  }
  const additional: Json = {};
  for (const [k, v] of Object.entries(messages)) if (!CONVERSE_OWN.has(k)) additional[k] = v;
  if (Object.keys(additional).length > 0) out.additionalModelRequestFields = additional;
  return out;
}

/** Converse's stopReason as Messages' stop_reason. */
const STOP: Readonly<Record<string, string>> = {
  end_turn: 'end_turn',
  stop_sequence: 'stop_sequence',
  max_tokens: 'max_tokens',
  tool_use: 'tool_use',
  model_context_window_exceeded: 'model_context_window_exceeded',
  guardrail_intervened: 'refusal',
  content_filtered: 'refusal',
};

export const stopReason = (reason: unknown) => STOP[String(reason)] ?? 'end_turn';

/** Converse's usage as Messages'. */
export function usageOf(usage: unknown): Json {
  const u = (usage ?? {}) as Json;
  return {
    input_tokens: u.inputTokens ?? 0,
    output_tokens: u.outputTokens ?? 0,
    cache_read_input_tokens: u.cacheReadInputTokens ?? 0,
    cache_creation_input_tokens: u.cacheWriteInputTokens ?? 0,
  };
}

/** A Converse answer as a Messages answer. */
export function fromConverseResponse(answer: Json, model: string): Json {
  const message = ((answer.output as Json | undefined)?.message ?? {}) as Json;
  const content = ((message.content ?? []) as Json[]).flatMap((b): Json[] => {
    if (typeof b.text === 'string') return [{ type: 'text', text: b.text }];
    const use = b.toolUse as Json | undefined;
    if (use !== undefined) return [{ type: 'tool_use', id: use.toolUseId, name: use.name, input: use.input }];
    const reasoning = (b.reasoningContent as Json | undefined)?.reasoningText as Json | undefined;
    if (reasoning !== undefined) return [{ type: 'thinking', thinking: reasoning.text }];
    return [];
  });
  return {
    id: `bedrock-${Date.now().toString(36)}`,
    model,
    content,
    stop_reason: stopReason(answer.stopReason),
    usage: usageOf(answer.usage),
  };
}

/**
 * ConverseStream's events, one at a time, as Messages stream events (for
 * AnthropicStreamTranslator). A text block has no start event in ConverseStream: its first
 * delta opens it. The stop reason (messageStop) comes before the usage (metadata): it is held
 * until the usage arrives, so the finish chunk carries both.
 */
export class ConverseStreamAdapter {
  private readonly open = new Set<number>();
  private stop: string | undefined;

  constructor(private readonly model: string) {}

  push(event: string, data: Json): Array<[string, Json]> {
    switch (event) {
      case 'messageStart':
        return [
          [
            'message_start',
            {
              message: {
                id: `bedrock-${Date.now().toString(36)}`,
                model: this.model,
                role: 'assistant',
                usage: { input_tokens: 0 },
              },
            },
          ],
        ];
      case 'contentBlockStart': {
        const index = Number(data.contentBlockIndex ?? 0);
        const use = (data.start as Json | undefined)?.toolUse as Json | undefined;
        this.open.add(index);
        return [
          [
            'content_block_start',
            {
              index,
              content_block:
                use === undefined
                  ? { type: 'text', text: '' }
                  : { type: 'tool_use', id: use.toolUseId, name: use.name, input: {} },
            },
          ],
        ];
      }
      case 'contentBlockDelta': {
        const index = Number(data.contentBlockIndex ?? 0);
        const delta = (data.delta ?? {}) as Json;
        const out: Array<[string, Json]> = [];
        const reasoning = delta.reasoningContent as Json | undefined;
        if (!this.open.has(index)) {
          this.open.add(index);
          out.push([
            'content_block_start',
            {
              index,
              content_block: reasoning ? { type: 'thinking', thinking: '' } : { type: 'text', text: '' },
            },
          ]);
        }
        if (typeof delta.text === 'string')
          out.push(['content_block_delta', { index, delta: { type: 'text_delta', text: delta.text } }]);
        else if (delta.toolUse !== undefined)
          out.push([
            'content_block_delta',
            {
              index,
              delta: { type: 'input_json_delta', partial_json: String((delta.toolUse as Json).input ?? '') },
            },
          ]);
        else if (typeof reasoning?.text === 'string')
          out.push([
            'content_block_delta',
            { index, delta: { type: 'thinking_delta', thinking: reasoning.text } },
          ]);
        return out;
      }
      case 'contentBlockStop':
        return [['content_block_stop', { index: Number(data.contentBlockIndex ?? 0) }]];
      case 'messageStop':
        this.stop = stopReason(data.stopReason);
        return [];
      case 'metadata': {
        const stop = this.stop ?? 'end_turn';
        this.stop = undefined;
        return [
          ['message_delta', { delta: { stop_reason: stop }, usage: usageOf(data.usage) }],
          ['message_stop', {}],
        ];
      }
      default:
        return [];
    }
  }

  /** A stream that ended after messageStop without metadata still finishes. */
  end(): Array<[string, Json]> {
    if (this.stop === undefined) return [];
    const stop = this.stop;
    this.stop = undefined;
    return [
      ['message_delta', { delta: { stop_reason: stop }, usage: {} }],
      ['message_stop', {}],
    ];
  }
}
