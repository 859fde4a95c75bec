export * from './access-key';
export * from './rotation';
