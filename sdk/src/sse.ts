// Server-sent events (https://html.spec.whatwg.org/multipage/server-sent-events.html) read from
// a fetch response body: how the server streams a subscription (`event: next` with a GraphQL
// result as data and `id:` its position, `event: complete` at the end, comment lines as keep-alive
// pings).

export interface ServerSentEvent {
  /** `message` when the event has no `event:` field. */
  readonly event: string;
  readonly data: string;
  /** The event's `id` field, when it has one (the server's outbox position: sent back as Last-Event-ID). */
  readonly id?: string;
}

/** A streaming UTF-8 decoder: TextDecoder where the platform has one, else a small one of our own. */
export function utf8Decoder(): (chunk: Uint8Array) => string {
  if (typeof TextDecoder !== 'undefined') {
    const decoder = new TextDecoder();
    return (chunk) => decoder.decode(chunk, { stream: true });
  }
  let pending: number[] = [];
  return (chunk) => {
    const bytes = pending.length ? Uint8Array.from([...pending, ...chunk]) : chunk;
    pending = [];
    let out = '';
    let i = 0;
    while (i < bytes.length) {
      const b = bytes[i]!;
      const size = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      if (i + size > bytes.length) {
        pending = Array.from(bytes.subarray(i));
        break;
      }
      let code = size === 1 ? (b < 0x80 ? b : 0xfffd) : b & (0xff >> (size + 1));
      for (let k = 1; k < size; k++) code = (code << 6) | (bytes[i + k]! & 0x3f);
      out += String.fromCodePoint(code);
      i += size;
    }
    return out;
  };
}

/**
 * Splits decoded text into events. Feed it text as it arrives; it returns the events completed
 * so far (a blank line ends an event). Comment lines (`:` first) are pings: they end nothing.
 */
export function eventParser(): (text: string) => ServerSentEvent[] {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let hasData = false;
  let id: string | undefined;
  // A chunk that ended with \r: a \n starting the next one is the rest of that line end.
  let skipLineFeed = false;
  return (text) => {
    buffer += text;
    if (skipLineFeed && buffer.startsWith('\n')) buffer = buffer.slice(1);
    skipLineFeed = false;
    const out: ServerSentEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      if (!match) break;
      if (match[0] === '\r' && match.index === buffer.length - 1) skipLineFeed = true;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      if (line === '') {
        if (hasData || event) out.push({ event: event || 'message', data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
        event = '';
        id = undefined;
        data = [];
        hasData = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') {
        data.push(value);
        hasData = true;
      }
      else if (field === 'id' && !value.includes('\0')) id = value;
      // `retry` is not used: the client's own backoff decides.
    }
    return out;
  };
}
