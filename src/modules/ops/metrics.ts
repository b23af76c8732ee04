import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { awsErrorFacts } from '../../cloud/aws/aws-error.js';
import type { StsGateway } from '../../cloud/aws/sts.js';
import { RolegateError } from '../../errors/errors.js';
import type { AuditSink } from '../audit/sinks.js';
import type { CredentialEngineStats } from '../credentials/credential-engine.js';

/** rolegate's Prometheus metrics, in one registry per app (tests start several apps in one process). */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly activeStreams: Gauge<'direction'>;
  readonly bytes: Counter<'transport' | 'direction'>;
  readonly stsCalls: Counter<'outcome'>;
  readonly stsDuration: Histogram<'outcome'>;
  readonly stsBudget: Counter<'outcome'>;
  readonly auditWrites: Counter<'sink' | 'outcome'>;
  readonly auditDuration: Histogram<'sink'>;
}

export function createMetrics(engineStats: () => CredentialEngineStats): Metrics {
  const registry = new Registry();
  // The event-loop delay monitor samples on a timer: at prom-client's default of 10 ms it alone woke an idle
  // rolegate 100 times a second (6 ms of CPU per second, doing nothing). A delay worth alerting on is far longer.
  collectDefaultMetrics({ register: registry, prefix: 'rolegate_process_', eventLoopMonitoringPrecision: 100 });
  const cache = (name: string, help: string, pick: (s: CredentialEngineStats) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        // Counters mirror the engine's own monotonic tallies at scrape time.
        this.reset();
        this.inc(pick(engineStats()));
      },
    });
  cache('rolegate_credential_cache_hits_total', 'Role sessions served from the cache', (s) => s.hits);
  cache('rolegate_credential_cache_misses_total', 'Role session requests that had to wait for STS', (s) => s.misses);
  cache('rolegate_credential_cache_refreshes_total', 'Background refreshes ahead of expiry', (s) => s.refreshes);
  return {
    registry,
    httpRequests: new Counter({
      name: 'rolegate_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'rolegate_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers: [registry],
    }),
    activeStreams: new Gauge({
      name: 'rolegate_active_streams',
      help: 'Object streams in flight through rolegate',
      labelNames: ['direction'],
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'rolegate_data_bytes_total',
      help: 'Object bytes streamed through rolegate',
      labelNames: ['transport', 'direction'],
      registers: [registry],
    }),
    stsCalls: new Counter({
      name: 'rolegate_sts_calls_total',
      help: 'STS AssumeRole calls by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    stsDuration: new Histogram({
      name: 'rolegate_sts_call_duration_seconds',
      help: 'STS AssumeRole latency by outcome',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    stsBudget: new Counter({
      name: 'rolegate_sts_budget_total',
      help: 'STS calls against the per-master-identity budget: immediate, waited or rejected (sts.rate_limited)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    auditWrites: new Counter({
      name: 'rolegate_audit_sink_writes_total',
      help: 'Audit batches written, by sink and outcome',
      labelNames: ['sink', 'outcome'],
      registers: [registry],
    }),
    auditDuration: new Histogram({
      name: 'rolegate_audit_sink_duration_seconds',
      help: 'Audit sink write latency',
      labelNames: ['sink'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 2],
      registers: [registry],
    }),
  };
}

function outcomeOf(error: unknown): string {
  if (error instanceof RolegateError) return error.code.replace(/^sts\./, '');
  const { status } = awsErrorFacts(error);
  return status === undefined ? 'network' : `http_${status}`;
}

/** Counts and times every STS call, by outcome. */
export function measuredSts(inner: StsGateway, metrics: Pick<Metrics, 'stsCalls' | 'stsDuration'>): StsGateway {
  return {
    async assumeRole(request) {
      const end = metrics.stsDuration.startTimer();
      try {
        const out = await inner.assumeRole(request);
        end({ outcome: 'ok' });
        metrics.stsCalls.inc({ outcome: 'ok' });
        return out;
      } catch (error) {
        const outcome = outcomeOf(error);
        end({ outcome });
        metrics.stsCalls.inc({ outcome });
        throw error;
      }
    },
  };
}

/** Counts and times every audit sink write. */
export function measuredSink(inner: AuditSink, metrics: Pick<Metrics, 'auditWrites' | 'auditDuration'>): AuditSink {
  return {
    name: inner.name,
    inline: inner.inline,
    async write(events) {
      const sink = inner.name.split(':')[0] ?? inner.name;
      const end = metrics.auditDuration.startTimer({ sink });
      try {
        await inner.write(events);
        metrics.auditWrites.inc({ sink, outcome: 'ok' });
      } catch (error) {
        metrics.auditWrites.inc({ sink, outcome: 'failed' });
        throw error;
      } finally {
        end();
      }
    },
  };
}
