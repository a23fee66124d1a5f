import { Counter, Gauge, type Registry } from 'prom-client';
import type { QueryMetrics } from '../model/query-metrics.ts';
import type { BreakerState } from '@strata/core';
import type { Breaker } from '../read-routing/breaker.ts';
import type { ReplicaSet } from '../read-routing/replica-set.ts';

/** What the gauges read at scrape time, so they can never disagree with the router's own view. */
export interface RoutingState {
  replicas: Pick<ReplicaSet, 'views'>;
  breakers: Pick<Breaker, 'target' | 'state'>[];
  /** The live hub, for the unsent bytes its stream clients hold. */
  live: { bufferedBytes(): number };
  /** The answers kept for reuse (decision 0103). */
  answerMemo: { readonly bytes: number };
}

const BREAKER_STATES: BreakerState[] = ['closed', 'open', 'half-open'];

/** The query API's own metrics, on the process registry (never prom-client's global one). */
export function createQueryMetrics(registry: Registry, routing: RoutingState): QueryMetrics {
  new Gauge({
    name: 'strata_query_replica_lag_seconds',
    // Unknown lag (no successful probe) is +Inf: a replica we cannot bound is as good as infinitely stale.
    help: 'Upper bound on each replica\'s staleness (last probe plus the time since); +Inf when unknown.',
    labelNames: ['replica'],
    registers: [registry],
    collect() {
      for (const view of routing.replicas.views(Date.now())) this.set({ replica: view.name }, view.lagMs === null ? Number.POSITIVE_INFINITY : view.lagMs / 1000);
    },
  });
  new Gauge({
    name: 'strata_query_replica_healthy',
    help: '1 when the replica\'s last probe answered in time and its breaker is closed, else 0.',
    labelNames: ['replica'],
    registers: [registry],
    collect() {
      for (const view of routing.replicas.views(Date.now())) this.set({ replica: view.name }, view.healthy ? 1 : 0);
    },
  });
  new Gauge({
    name: 'strata_query_circuit_breaker_state',
    help: 'Circuit breaker state per read source (replica:<name>, cache): 1 for the current state, 0 for the others.',
    labelNames: ['target', 'state'],
    registers: [registry],
    collect() {
      for (const breaker of routing.breakers) {
        const current = breaker.state();
        for (const state of BREAKER_STATES) this.set({ target: breaker.target, state }, state === current ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'strata_query_stream_buffered_bytes',
    help: 'Bytes written to SSE clients and not yet taken by their sockets, over all clients of this process.',
    registers: [registry],
    collect() {
      this.set(routing.live.bufferedBytes());
    },
  });
  new Gauge({
    name: 'strata_query_answer_memo_bytes',
    help: 'Bytes of series and stats answers this process keeps for reuse (at most ANSWER_MEMO_MAX_BYTES).',
    registers: [registry],
    collect() {
      this.set(routing.answerMemo.bytes);
    },
  });
  return {
    streamsEnded: new Counter({
      name: 'strata_query_streams_ended_total',
      help: 'SSE streams ended, by reason: closed (by the client), slow (unsent output passed STREAM_MAX_BUFFER_BYTES), server (shutdown, key revoked, subscription lost).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    streamClients: new Gauge({
      name: 'strata_query_stream_clients',
      help: 'Server-Sent Events clients connected to GET /v1/stream on this process.',
      registers: [registry],
    }),
    reads: new Counter({
      name: 'strata_query_reads_total',
      help: 'Reads answered, by the source that answered (primary, replica:<name>, cache) and requested consistency.',
      labelNames: ['source', 'consistency'],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'strata_query_cache_lookups_total',
      help: 'Latest-state cache lookups: hit, miss, or error (Redis failed or timed out; the read fell back).',
      labelNames: ['result'],
      registers: [registry],
    }),
    answerMemoLookups: new Counter({
      name: 'strata_query_answer_memo_lookups_total',
      help: 'Series and stats reads (read) that looked for a kept answer: hit (what it was computed from unchanged, the answer reused), changed (read again), miss (none kept, or too old).',
      labelNames: ['read', 'result'],
      registers: [registry],
    }),
    projectionWaits: new Counter({
      name: 'strata_query_projection_waits_total',
      help: 'Strong and token reads that found acknowledged, still-staged batches to wait for (decision 0104): applied (waited, then read); 503s: timeout (STRONG_READ_WAIT_MS passed), busy (64 reads of the tenant at once), backlog (too many batches or staged events), off (STRONG_READ_WAIT_MS=0), shutdown.',
      labelNames: ['result'],
      registers: [registry],
    }),
    replicaSkips: new Counter({
      name: 'strata_query_replica_skips_total',
      help: 'Reads a chosen replica did not answer: token (batch not applied there yet), error (failed or timed out), breaker (open).',
      labelNames: ['replica', 'reason'],
      registers: [registry],
    }),
  };
}
