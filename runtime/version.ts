// The engine's own version, read once from package.json; plugins' `islet` ranges are checked against it.
import pkg from '../package.json' with { type: 'json' }

export const ENGINE_VERSION: string = pkg.version
