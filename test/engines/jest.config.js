/**
 * Jest for the engines written by others (`npm run test:engines`), kept out of `npm test`: each suite
 * starts a server installed by its test/engines/<engine>/install.sh.
 */
const path = require('path');

module.exports = {
  rootDir: path.join(__dirname, '..', '..'),
  testEnvironment: 'node',
  roots: ['<rootDir>/test/engines'],
  testMatch: ['**/*.engine.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
  },
  modulePaths: ['<rootDir>/node_modules'],
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
};
