/** A GraphQL subscription over server-sent events (Yoga's built-in transport), read as a client would. */
export interface SseSubscription {
  /** The next `next` payload, or null when the stream completed. Rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<any | null>;
  close(): void;
}

export async function subscribe(
  fetchFn: (request: Request) => Promise<Response>,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<SseSubscription> {
  const controller = new AbortController();
  const response = await fetchFn(
    new Request('http://arrears.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    }),
  );
  if (!response.body) throw new Error(`no stream: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queue: (any | null)[] = [];
  const waiters: ((v: any | null) => void)[] = [];
  let done = false;
  const push = (v: any | null) => {
    const w = waiters.shift();
    if (w) w(v);
    else queue.push(v);
  };
  void (async () => {
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buffer += value;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const chunk = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const event = /^event: (.*)$/m.exec(chunk)?.[1];
          const data = /^data: (.*)$/m.exec(chunk)?.[1];
          if (event === 'complete') push(null);
          else if (data) push(JSON.parse(data));
        }
      }
    } catch {
      /* aborted */
    } finally {
      done = true;
      push(null);
    }
  })();
  return {
    next(timeoutMs = 5000) {
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (done) return Promise.resolve(null);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no event within the timeout')), timeoutMs);
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
