export * from './errors.ts';
export * from './host-registry.ts';
export * from './uri.ts';
