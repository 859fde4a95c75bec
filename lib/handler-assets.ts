import * as path from 'path';

// Not part of the public API: lib/index.ts does not export this module. The provider and the tests
// that check the bundle exists import it by path.

/** The onEvent handler's bundle, which `npm run build` writes and `npm pack` ships. */
export const HANDLER_ASSET_DIR = path.join(__dirname, '..', 'lambda', 'dist', 'on-event');

/** The rotation function's bundle, which `npm run build` writes and `npm pack` ships. */
export const ROTATION_ASSET_DIR = path.join(__dirname, '..', 'lambda', 'dist', 'rotation');
