import { createServer } from 'node:net';

/** A local port nothing listens on right now: for a server to start on, or a dead address. */
export function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
