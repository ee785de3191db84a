// Is a TCP port free on loopback? Used before starting anything, so a taken port gets one clear message.
import { createServer } from 'node:net';
import { StackError } from './errors.ts';

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function assertPortsFree(ports: Record<string, number>, hint: string): Promise<void> {
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) {
      throw new StackError(
        'port_taken',
        `Port ${port} (${name}) is already in use on 127.0.0.1`,
        `${hint}, or find the process with: ss -ltnp 'sport = :${port}'`,
      );
    }
  }
}
