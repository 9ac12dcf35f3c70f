import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type { TracingConfig } from '../config/security-schema.ts';
import { wrapBindingCalls } from '../libvirt/native.ts';

/**
 * OpenTelemetry tracing, off unless configured. Nothing of OpenTelemetry is loaded until
 * startTracing() runs (dynamic imports), and while it is off each place that could open a span
 * costs one check of a module variable.
 *
 * Spans: the GraphQL operation (useTracing), each loader batch under it (src/schema/core/request-cache.ts)
 * and each libvirt binding call under those (src/libvirt/native.ts). Exported over OTLP/HTTP
 * (JSON) to `tracing.otlpUrl`.
 */
export interface Tracing {
  /** Sends the spans that ended, then stops tracing and unloads the hooks. Idempotent. */
  shutdown(): Promise<void>;
}

type SpanRunner = <T>(name: string, attributes: Attributes, fn: (span: Span) => T, incoming?: Headers) => T;

/** Set while tracing runs (one per process: OpenTelemetry's context and binding hook are global). */
let inSpan: SpanRunner | undefined;

/** Whether spans are being recorded now. */
export function isTracing(): boolean {
  return inSpan !== undefined;
}

/**
 * Runs `fn` in a span, a child of the active one, ended when `fn` (or the promise it returns)
 * settles. Without tracing it only calls `fn`; `attributes` is not called then. With `incoming`
 * request headers carrying a valid W3C `traceparent` (and `tracestate`), the span continues that
 * trace instead: the caller's span becomes its parent.
 */
export function withSpan<T>(name: string, attributes: () => Attributes, fn: (span?: Span) => T, incoming?: Headers): T {
  return inSpan === undefined ? fn() : inSpan(name, attributes(), fn, incoming);
}

/** Starts tracing with `config`; a second call while one runs fails. */
export async function startTracing(config: TracingConfig): Promise<Tracing> {
  if (inSpan !== undefined) throw new Error('tracing already runs in this process');
  const [
    api,
    { BasicTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    hooks,
    { W3CTraceContextPropagator },
  ] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
  ]);
  // Parents follow async calls (a DataLoader batch runs in the context of the load that queued it).
  const contextManager = new hooks.AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  const exporter = new OTLPTraceExporter({ url: config.otlpUrl, headers: config.headers ?? {} });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: config.exportDelayMs })],
  });
  const tracer: Tracer = provider.getTracer('virtql');

  // traceparent/tracestate as the W3C Trace Context spells them; anything malformed is ignored (a new trace).
  const propagator = new W3CTraceContextPropagator();
  const headerGetter = {
    keys: (carrier: Headers) => [...carrier.keys()],
    get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  };
  const parentOf = (incoming: Headers | undefined) =>
    incoming === undefined ? api.context.active() : propagator.extract(api.context.active(), incoming, headerGetter);

  const run: SpanRunner = (name, attributes, fn, incoming) =>
    tracer.startActiveSpan(name, { attributes }, parentOf(incoming), (span) => {
      const fail = (e: unknown) => {
        span.recordException(e instanceof Error ? e : String(e));
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
      };
      let result: ReturnType<typeof fn>;
      try {
        result = fn(span);
      } catch (e) {
        fail(e);
        span.end();
        throw e;
      }
      if (result instanceof Promise) {
        return result.then(
          (value) => {
            span.end();
            return value;
          },
          (e: unknown) => {
            fail(e);
            span.end();
            throw e;
          },
        ) as typeof result;
      }
      span.end();
      return result;
    });
  inSpan = run;
  // Binding calls only as part of something traced: keepalives, event registrations and
  // sampler ticks would each start a trace of one span.
  wrapBindingCalls((name, call) =>
    api.trace.getSpan(api.context.active()) === undefined
      ? call()
      : run(`libvirt ${name}`, { 'libvirt.function': name }, call),
  );

  let stopping: Promise<void> | undefined;
  return {
    shutdown() {
      stopping ??= (async () => {
        if (inSpan === run) {
          inSpan = undefined;
          wrapBindingCalls(undefined);
        }
        try {
          await provider.shutdown();
        } finally {
          api.context.disable();
          contextManager.disable();
        }
      })();
      return stopping;
    },
  };
}
