import type { OperationDefinitionNode } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Topics } from '../pubsub/pubsub';

/** Duration buckets (seconds) of every histogram here: from a cached read to a feed catching up after an outage. */
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Operation names are the client's to choose: the first this many distinct ones get a label of their own. */
export const MAX_OPERATION_NAMES = 100;
/** A value longer than this never gets a label of its own. */
const MAX_NAME_LENGTH = 100;
/** Error codes are the server's, a few dozen at most; bounded all the same. */
const MAX_ERROR_CODES = 50;

/** What the database pool holds at a scrape: connections in use, idle, and requests waiting for one. */
export interface PoolState {
  used: number;
  free: number;
  waiting: number;
}

/**
 * Label values from an open set, bounded: the first `max` distinct values keep their own label, later ones and
 * long ones share `other`. A restart forgets them (an instance labels what it saw first).
 */
class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max || value.length > MAX_NAME_LENGTH) return 'other';
    this.seen.add(value);
    return value;
  }
}

/**
 * The metrics of one app (`GET /metrics`, Prometheus text format): its own registry, so that several apps in one
 * process (the tests) count apart. Everything else records through these methods.
 */
export class Metrics {
  private readonly registry = new Registry();
  private readonly httpRequests = new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'HTTP requests by method, route (the matched route, "unmatched" for a 404) and status; _count counts them',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly operations = new Histogram({
    name: 'parley_graphql_operation_duration_seconds',
    help:
      'GraphQL operations over HTTP and websockets by type and name ("anonymous" without one, "other" past the first ' +
      `${MAX_OPERATION_NAMES} names): until answered, for a subscription until it started; _count counts them`,
    labelNames: ['type', 'name'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'parley_graphql_errors_total',
    help: 'GraphQL errors answered, over HTTP and websockets, by extensions.code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly websockets = new Gauge({
    name: 'parley_websocket_connections',
    help: 'Open websocket connections',
    registers: [this.registry],
  });
  private readonly subscriptions = new Gauge({
    name: 'parley_subscriptions_active',
    help: 'Running subscriptions by kind (their root field: messageAdded, inboxUpdated)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly messages = new Counter({
    name: 'parley_messages_posted_total',
    help: 'Messages posted: "created" (stored, also the first message of startChat) or "replayed" (an idempotent retry answered with the stored message)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly deliveries = new Histogram({
    name: 'parley_message_delivery_delay_seconds',
    help: "From a message's createdAt (taken when its post began) until a live messageAdded subscriber was sent it; replays of older messages are not counted",
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly publishFailures = new Counter({
    name: 'parley_pubsub_publish_failures_total',
    help: 'Publishes Redis refused or could not take (each is sent again once Redis is back), by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  private readonly resends = new Counter({
    name: 'parley_pubsub_resent_total',
    help: 'Doorbells sent again after Redis came back (the newest per channel), by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  /**
   * Publishes, counted in plain numbers and handed to their counter at each scrape: a post into a 1,000-member chat
   * publishes 1,001 times, and a labelled counter's inc costs about as much as the in-process publish itself.
   */
  private readonly publishedByTopic: Record<keyof Topics, number> = { MESSAGE_ADDED: 0, INBOX: 0 };
  private readonly operationNames = new BoundedLabel(MAX_OPERATION_NAMES);
  private readonly errorCodes = new BoundedLabel(MAX_ERROR_CODES);

  /** `pool` reads the database pool at each scrape (undefined when there is none, or once it is closed). */
  constructor(pool: () => PoolState | undefined = () => undefined) {
    collectDefaultMetrics({ register: this.registry });
    const publishes = new Counter({
      name: 'parley_pubsub_published_total',
      help: 'Doorbells published, by topic',
      labelNames: ['topic'] as const,
      registers: [this.registry],
      collect: () => {
        publishes.reset();
        for (const [topic, count] of Object.entries(this.publishedByTopic)) publishes.inc({ topic }, count);
      },
    });
    const connections = new Gauge({
      name: 'parley_db_pool_connections',
      help: 'Database connections by state: "used" (lent to a statement or transaction) or "free"',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect: () => {
        connections.set({ state: 'used' }, pool()?.used ?? 0);
        connections.set({ state: 'free' }, pool()?.free ?? 0);
      },
    });
    const waiting = new Gauge({
      name: 'parley_db_pool_waiting',
      help: 'Requests waiting for a database connection',
      registers: [this.registry],
      collect: () => {
        waiting.set(pool()?.waiting ?? 0);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text a scrape answers. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  httpRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    this.httpRequests.observe({ method, route: route ?? 'unmatched', status }, seconds);
  }

  /** An operation that was resolved (parsed, valid, its operation found); null or undefined counts nothing. */
  operation(operation: OperationDefinitionNode | null | undefined, seconds: number): void {
    if (!operation) return;
    const name = operation.name ? this.operationNames.of(operation.name.value) : 'anonymous';
    this.operations.observe({ type: operation.operation, name }, seconds);
  }

  /** An error a client was answered, by its `extensions.code`. */
  errorAnswered(code: unknown): void {
    this.errors.inc({ code: this.errorCodes.of(String(code ?? 'INTERNAL_SERVER_ERROR')) });
  }

  websocketOpened(): void {
    this.websockets.inc();
  }

  websocketClosed(): void {
    this.websockets.dec();
  }

  /** A subscription of this kind started; call the answer when it ends (once; later calls do nothing). */
  subscriptionStarted(kind: string): () => void {
    this.subscriptions.inc({ kind });
    let running = true;
    return () => {
      if (running) this.subscriptions.dec({ kind });
      running = false;
    };
  }

  messagePosted(created: boolean): void {
    this.messages.inc({ result: created ? 'created' : 'replayed' });
  }

  messageDelivered(createdAt: Date): void {
    this.deliveries.observe((Date.now() - createdAt.getTime()) / 1000);
  }

  published(topic: keyof Topics): void {
    this.publishedByTopic[topic] += 1;
  }

  publishFailed(topic: keyof Topics): void {
    this.publishFailures.inc({ topic });
  }

  resent(topic: keyof Topics): void {
    this.resends.inc({ topic });
  }

  /** Forgets every metric, so nothing the default metrics' process-wide observers hold keeps the app alive. */
  close(): void {
    this.registry.clear();
  }
}
