export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function nanoseconds(ns: number): string {
  if (Number.isNaN(ns)) return 'n/a';
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e5 ? 1 : 0)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

export function megabytes(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

export function signedMegabytes(bytes: number): string {
  return `${bytes < 0 ? '-' : '+'}${megabytes(Math.abs(bytes))} MB`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
