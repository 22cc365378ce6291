/**
 * A local HTTP server for the fakes of AWS services (test/support/fake-*.ts): listens on a free port of
 * 127.0.0.1, hands each request, its body read whole, to the fake, and writes the fake's answer.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { text as readBody } from 'node:stream/consumers';

/** What a fake answers one request with. */
export interface LocalAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface LocalServer {
  /** The URL to give a client (`endpoint`, or `AWS_ENDPOINT_URL_<SERVICE>`). */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Makes `server` listen on a free port of 127.0.0.1; resolves once it does. */
export async function listenOnLoopback(server: http.Server): Promise<void> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
}

/** The URL of a server listening on loopback (`endpoint`, or `AWS_ENDPOINT_URL_<SERVICE>`). */
export const endpointOf = (server: http.Server): string =>
  `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** Starts a server that answers every request with `answer(request, body)`. */
export async function startLocalServer(
  answer: (request: http.IncomingMessage, body: string) => LocalAnswer,
): Promise<LocalServer> {
  const server = http.createServer((req, res) => {
    void readBody(req).then((body) => {
      const { status, headers, body: text } = answer(req, body);
      res.writeHead(status, headers);
      res.end(text);
    });
  });
  await listenOnLoopback(server);
  return {
    endpoint: endpointOf(server),
    close: async () => {
      server.close();
      server.closeAllConnections();
      await once(server, 'close');
    },
  };
}
