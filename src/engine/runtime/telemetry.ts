/**
 * The OpenTelemetry SDK of a threefactor process (`start`, `dispatch`,
 * `handlers`): the one place an SDK is loaded, registered and shut down.
 * The code that makes spans (src/kit/telemetry.ts, ../server/tracing.ts,
 * ../dispatcher/delivery/attempt.ts) uses the API alone, as the handler kit
 * must: it deploys without us, and its host registers the SDK.
 *
 * Only with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
 * set, and OTEL_SDK_DISABLED not true, is anything imported or started;
 * otherwise the API stays its no-op and a span costs an allocation or is
 * never made. Spans go out in batches over OTLP/HTTP (JSON); the exporter
 * and the batch processor read the other standard variables themselves
 * (headers, timeouts, OTEL_BSP_*), and OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES override the default `threefactor-<process>` name.
 *
 * A Service: stopped last, after the process drained, it flushes what is
 * queued within the deadline; spans are telemetry, not data, so a SIGKILL
 * loses those not yet sent and a collector that does not answer never holds
 * the shutdown past it.
 */
import type { Config } from '../config.js';
import { msUntil } from '../lib.js';
import type { Logger } from '../log.js';
import type { Service } from './service.js';

type TelemetryConfig = Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_SDK_DISABLED'>;

/** Whether this process exports spans: the cheap check everything else is gated on. */
export function tracesEnabled(config: TelemetryConfig): boolean {
  return Boolean(config.OTEL_EXPORTER_OTLP_ENDPOINT || config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) && config.OTEL_SDK_DISABLED !== true;
}

/** However late the drain ran, the flush gets this long: the spans of the last calls are the ones that explain a shutdown. */
const FLUSH_AT_LEAST_MS = 500;

/**
 * Registers the SDK's tracer provider globally when tracing is on, and
 * returns the service that shuts it down; undefined (nothing loaded) when off.
 */
export async function startTelemetry(config: TelemetryConfig, log: Logger, processName: string): Promise<Service | undefined> {
  if (!tracesEnabled(config)) return undefined;
  const [api, { NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources, { ATTR_SERVICE_NAME }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const telemetryLog = log.child({ component: 'telemetry' });
  // The SDK reports a failed export through diag, silent by default: one warning line each, so a wrong endpoint shows.
  api.diag.setLogger(
    {
      error: (message) => telemetryLog.warn(diagLine(message)),
      warn: (message) => telemetryLog.warn(diagLine(message)),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    api.DiagLogLevel.WARN,
  );
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ [ATTR_SERVICE_NAME]: `threefactor-${processName}` }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, as the specification has it, win.
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  // With it the AsyncLocalStorage context manager: an in-process handler runs as its attempt's child.
  provider.register();
  telemetryLog.info({ serviceName: resource.attributes[ATTR_SERVICE_NAME] }, 'exporting spans over OTLP/HTTP');
  return {
    name: 'telemetry',
    async start() {},
    async stop(deadline) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(FLUSH_AT_LEAST_MS, msUntil(deadline)))));
      try {
        const outcome = await Promise.race([provider.shutdown().then(() => 'flushed' as const), late]);
        if (outcome === 'late') telemetryLog.warn('spans not flushed by the deadline; those still queued are dropped');
      } catch (err) {
        telemetryLog.warn({ err: (err as Error).message }, 'spans could not be flushed');
      } finally {
        clearTimeout(timer);
        api.trace.disable();
      }
    },
  };
}

/** The SDK reports a failed export as a JSON-encoded error with its stack: the message is the line worth logging. */
function diagLine(message: string): string {
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string') {
      return `span export: ${(parsed as { message: string }).message}`;
    }
  } catch {
    // Not JSON: a plain message.
  }
  return `span export: ${message}`;
}
