import { Counter, Histogram, type Registry } from 'prom-client';
import { observeBindingCalls } from '../libvirt/native.ts';

/** Test-driver calls take tens of microseconds; migrations and cold QEMU probes take seconds. */
const BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30];

/**
 * Every call into the native binding, by libvirt function, from the one wrapper all calls pass
 * (src/libvirt/native.ts). The binding is one per process, so these count the whole process's
 * calls, whichever app made them. Returns the function that stops counting.
 */
export function collectBindingMetrics(registry: Registry): () => void {
  const calls = new Counter({
    name: 'virtql_libvirt_calls_total',
    help: 'Calls into the libvirt binding, by binding function and outcome (ok or error).',
    labelNames: ['function', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'virtql_libvirt_call_duration_seconds',
    help: 'Time from a binding call to its settling, by binding function.',
    labelNames: ['function'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  return observeBindingCalls((name, seconds, failed) => {
    calls.inc({ function: name, outcome: failed ? 'error' : 'ok' });
    duration.observe({ function: name }, seconds);
  });
}
