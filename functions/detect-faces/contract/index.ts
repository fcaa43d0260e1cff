/**
 * detect-faces' contract, written once: the environment it reads (env.ts), the request it takes and
 * the result it returns (request.ts), YuNet's operating points per mark (operating-points.ts), and the
 * upload events and records (events.ts). The function
 * parses its environment and its requests from these tables; the stack and the local runner write
 * the environment from them; the README and `help` tables are generated from them (`npm run docs`;
 * a test fails when they drift). Dependency-free: the stack and local/ import this folder, never
 * the function's internals.
 */
export * from './deadline';
export * from './env';
export * from './events';
export * from './operating-points';
export * from './request';
