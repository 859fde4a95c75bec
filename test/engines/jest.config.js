// Jest for the engines written by others (`npm run test:engines`, after `bash test/engines/install.sh`).
// `npm test` leaves test/engines/ out (package.json testPathIgnorePatterns): these suites start JVMs and
// Python servers and belong to their own script.
const path = require('node:path');

module.exports = {
  rootDir: path.join(__dirname, '..', '..'),
  testEnvironment: 'node',
  roots: ['<rootDir>/test/engines'],
  testMatch: ['**/*.engine.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }] },
  modulePaths: ['<rootDir>/node_modules'],
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  testTimeout: 120_000,
};
