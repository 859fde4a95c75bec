export * from './access-key';
export * from './access-key-interface';
export * from './access-key-provider';
export * from './rotation';
