/**
 * Chat completion chunks as the Responses API's event stream: response.created and
 * .in_progress; per output item output_item.added, its content part and text deltas (or the
 * function call's argument deltas), the .done events, output_item.done; then response.completed
 * (or .incomplete) with the whole output and usage; every event with its `event:` line and a
 * `sequence_number` from 0. Items are numbered as they open, so each `output_index` is the item's
 * place in `output`, which the openai client's accumulator relies on; a function call opens with
 * `arguments: ""`, which LangChain appends the deltas to.
 */
import type { ChatChunk } from '../../gateway/types.js';
import { completion, newId, textPart, usageOf } from './responses-bridge.js';

type Json = Record<string, unknown>;

interface OpenItem {
  index: number;
  item: Json;
  text: string;
}

export class ResponsesStream {
  private sequence = 0;
  private readonly output: Json[] = [];
  private message: OpenItem | undefined;
  /** Open function calls by the chat stream's tool call index. */
  private readonly calls = new Map<number, OpenItem>();
  private finish: string | null = null;
  private usage: ChatChunk['usage'] | undefined;

  constructor(private readonly shell: Json) {}

  private event(type: string, fields: Json): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...fields })}\n\n`;
  }

  start(): string[] {
    return [
      this.event('response.created', { response: this.shell }),
      this.event('response.in_progress', { response: this.shell }),
    ];
  }

  private open(item: Json): OpenItem {
    const opened = { index: this.output.length, item, text: '' };
    this.output.push(item);
    return opened;
  }

  private closeMessage(out: string[]): void {
    const m = this.message;
    if (m === undefined) return;
    this.message = undefined;
    const id = m.item.id;
    const part = textPart(m.text);
    const where = { item_id: id, output_index: m.index, content_index: 0 };
    out.push(this.event('response.output_text.done', { ...where, text: m.text, logprobs: [] }));
    out.push(this.event('response.content_part.done', { ...where, part }));
    const done = {
      ...m.item,
      status: this.finish === 'length' ? 'incomplete' : 'completed',
      content: [part],
    };
    this.output[m.index] = done;
    out.push(this.event('response.output_item.done', { output_index: m.index, item: done }));
  }

  private closeCalls(out: string[]): void {
    for (const call of this.calls.values()) {
      const where = { item_id: call.item.id, output_index: call.index };
      out.push(
        this.event('response.function_call_arguments.done', {
          ...where,
          name: call.item.name,
          arguments: call.text,
        }),
      );
      const done = { ...call.item, status: 'completed', arguments: call.text };
      this.output[call.index] = done;
      out.push(this.event('response.output_item.done', { output_index: call.index, item: done }));
    }
    this.calls.clear();
  }

  /** The events one chat chunk makes. */
  push(chunk: ChatChunk): string[] {
    const out: string[] = [];
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice === undefined) return out;
    const delta = choice.delta ?? {};
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (this.message === undefined) {
        this.message = this.open({
          id: newId('msg'),
          type: 'message',
          status: 'in_progress',
          role: 'assistant',
          content: [],
        });
        out.push(
          this.event('response.output_item.added', {
            output_index: this.message.index,
            item: this.message.item,
          }),
        );
        out.push(
          this.event('response.content_part.added', {
            item_id: this.message.item.id,
            output_index: this.message.index,
            content_index: 0,
            part: textPart(''),
          }),
        );
      }
      this.message.text += delta.content;
      out.push(
        this.event('response.output_text.delta', {
          item_id: this.message.item.id,
          output_index: this.message.index,
          content_index: 0,
          delta: delta.content,
          logprobs: [],
        }),
      );
    }
    for (const call of delta.tool_calls ?? []) {
      let open = this.calls.get(call.index);
      if (open === undefined) {
        // Text before a call is finished before the call's item opens.
        this.closeMessage(out);
        open = this.open({
          id: newId('fc'),
          type: 'function_call',
          status: 'in_progress',
          call_id: call.id ?? newId('call'),
          name: call.function?.name ?? '',
          arguments: '',
        });
        this.calls.set(call.index, open);
        out.push(this.event('response.output_item.added', { output_index: open.index, item: open.item }));
      }
      const args = call.function?.arguments ?? '';
      if (args !== '') {
        open.text += args;
        out.push(
          this.event('response.function_call_arguments.delta', {
            item_id: open.item.id,
            output_index: open.index,
            delta: args,
          }),
        );
      }
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  /** The closing events, and the finished output for the store. */
  end(): { frames: string[]; output: Json[]; response: Json } {
    const out: string[] = [];
    // A stream that sent no text and no call still answers with an (empty) message.
    if (this.output.length === 0) {
      this.message = this.open({
        id: newId('msg'),
        type: 'message',
        status: 'in_progress',
        role: 'assistant',
        content: [],
      });
      out.push(this.event('response.output_item.added', { output_index: 0, item: this.message.item }));
      out.push(
        this.event('response.content_part.added', {
          item_id: this.message.item.id,
          output_index: 0,
          content_index: 0,
          part: textPart(''),
        }),
      );
    }
    this.closeMessage(out);
    this.closeCalls(out);
    const state = completion(this.finish);
    const response = { ...this.shell, ...state, output: this.output, usage: usageOf(this.usage) };
    out.push(
      this.event(state.status === 'completed' ? 'response.completed' : 'response.incomplete', { response }),
    );
    return { frames: out, output: this.output, response };
  }

  /** A failure after the stream began. */
  failed(code: string, message: string): string {
    return this.event('response.failed', {
      response: { ...this.shell, status: 'failed', output: this.output, error: { code, message } },
    });
  }
}
