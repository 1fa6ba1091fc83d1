/**
 * Whatever registers cleanups: a tap test, or a script's own list (`npm run chaos`). Helpers
 * register each resource here the moment it exists, so a failure halfway through a setup still
 * stops every process it started.
 */
export interface Teardown { teardown: (fn: () => unknown) => void }
