/**
 * Event recorder: writes core/v1 Events about objects, aggregating repeats of the same
 * (object, reason, message) into one Event whose count and lastTimestamp grow, as Kubernetes does.
 */
import type { Logger } from 'pino';
import type { ApiClient } from './api.js';
import { isNotFound } from '../api/errors.js';
import type { ObjectMeta } from '../api/types.js';

export interface EventSource {
  component: string;
  host?: string;
}

export type EventType = 'Normal' | 'Warning';

/** What an event is about: any object of the Kubernetes shape (client-go's runtime.Object with ObjectMeta). */
export interface InvolvedObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
}

export class EventRecorder {
  private readonly seen = new Map<string, { name: string; count: number }>();

  constructor(
    private readonly client: ApiClient,
    private readonly source: EventSource,
    private readonly log?: Logger,
  ) {}

  /** Records an event; never throws (events are best effort). */
  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    this.record(obj, type, reason, message).catch((err: unknown) =>
      this.log?.debug({ err: (err as Error).message, reason }, 'event not recorded'),
    );
  }

  async record(obj: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace || 'default';
    const aggKey = `${obj.kind}/${namespace}/${meta.name}/${meta.uid}/${reason}/${message}`;
    const now = new Date().toISOString();
    const prev = this.seen.get(aggKey);
    if (prev) {
      try {
        await this.client.patch('events', prev.name, { count: prev.count + 1, lastTimestamp: now }, { namespace });
        prev.count++;
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const name = `${meta.name ?? 'unknown'}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`;
    await this.client.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
      reportingComponent: this.source.component,
      reportingInstance: this.source.host ?? '',
    });
    this.seen.set(aggKey, { name, count: 1 });
    if (this.seen.size > 5000) this.seen.delete(this.seen.keys().next().value as string);
  }
}
