import { timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics (prom-client): the process's own (CPU, memory, event loop, GC) and what
 * Arrears counts. Served at /metrics in the Prometheus text format to a scraper that sends
 * `Authorization: Bearer <ARREARS_METRICS_TOKEN>`; without that setting the endpoint does not exist.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly sqlStatements = new Counter({ name: 'arrears_sql_statements_total', help: 'SQL statements sent to the database', registers: [this.registry] });
  readonly throttled = new Counter({
    name: 'arrears_throttled_requests_total',
    help: 'Requests refused with 429: over a principal’s cost budget, or from an address without valid credentials',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'arrears_' });
  }
}

export function useMetricsEndpoint(metrics: Metrics, token: string | undefined): Plugin {
  const expected = token ? Buffer.from(`Bearer ${token}`) : null;
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== '/metrics') return;
      const given = Buffer.from(request.headers.get('authorization') ?? '');
      if (!expected) return endResponse(new fetchAPI.Response('Not found', { status: 404 }));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return endResponse(new fetchAPI.Response('Unauthorized', { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } }));
      }
      endResponse(new fetchAPI.Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } }));
    },
  };
}
