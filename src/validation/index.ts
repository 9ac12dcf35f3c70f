export * from './device-inputs.ts';
export * from './domain-inputs.ts';
export * from './interface-inputs.ts';
export * from './ipv4.ts';
export * from './mac.ts';
export * from './names.ts';
export * from './network-inputs.ts';
export * from './provision-inputs.ts';
