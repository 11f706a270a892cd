/** A raw server-sent-events reader that keeps ids and tells how the stream ended (tests of resumption and shutdown). */
export interface RawEvent {
  event: string;
  id?: string;
  data: any;
}

export interface RawStream {
  status: number;
  /** The next event (pings skipped); null when the body ended. Rejects after timeoutMs. */
  next(timeoutMs?: number): Promise<RawEvent | null>;
  /** Resolves when the body ended: `clean` when it ended normally, or with the read error. */
  ended: Promise<{ clean: boolean; error?: unknown }>;
  close(): void;
}

export async function openStream(
  fetchFn: (request: Request) => Promise<Response>,
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<RawStream> {
  const controller = new AbortController();
  const response = await fetchFn(
    new Request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    }),
  );
  if (!response.body) throw new Error(`no stream: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const queue: (RawEvent | null)[] = [];
  const waiters: ((v: RawEvent | null) => void)[] = [];
  const push = (v: RawEvent | null) => {
    const w = waiters.shift();
    if (w) w(v);
    else queue.push(v);
  };
  const ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return { clean: true };
        buffer += value;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const chunk = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const event = /^event: ?(.*)$/m.exec(chunk)?.[1];
          if (!event) continue; // a ping
          const id = /^id: ?(.*)$/m.exec(chunk)?.[1];
          const data = /^data: ?(.*)$/m.exec(chunk)?.[1];
          push({ event, ...(id !== undefined ? { id } : {}), data: data ? JSON.parse(data) : null });
        }
      }
    } catch (error) {
      return { clean: false, error };
    } finally {
      push(null);
    }
  })();
  return {
    status: response.status,
    ended,
    next(timeoutMs = 5000) {
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((v) => {
          clearTimeout(timer);
          resolve(v);
        });
      });
    },
    close() {
      controller.abort();
    },
  };
}
