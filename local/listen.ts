/** Listening on loopback for the local servers, with one error for a port that is taken. */
import type { AddressInfo, Server } from 'node:net';

/** A local server's port is held by another process (another `npm run serve`, say). */
export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`127.0.0.1:${port} is in use (another npm run serve, or another program)`);
    this.name = 'PortInUseError';
  }
}

/** Listens on 127.0.0.1:`port` (0: a free one) and resolves with the port; a taken port rejects with PortInUseError. */
export function listenOnLoopback(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError(port) : err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
