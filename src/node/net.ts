/**
 * node_net and node_dgram: sockets and listening servers. A client socket is recorded once it has connected (its
 * channel fires at creation, before any address is known), with how long connecting took.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import type { AddressInfo, Server, Socket } from 'node:net';
import { defineEvent } from '../trace/index.js';
import { channelSource, errorText, type Source, str } from './source.js';

export function netSources(): Source[] {
  const clientSocket = defineEvent(
    'node_net',
    'client_socket',
    { local_addr: 'string', local_port: 'u16', remote_addr: 'string', remote_port: 'u16', connect_ns: 'u64' },
    { print: '%s:%u -> %s:%u connect_ns=%llu' },
  );
  const serverSocket = defineEvent(
    'node_net',
    'server_socket',
    { local_addr: 'string', local_port: 'u16', remote_addr: 'string', remote_port: 'u16' },
    { print: '%s:%u <- %s:%u' },
  );
  const listen = defineEvent(
    'node_net',
    'listen',
    { address: 'string', port: 'u16', family: 'string' },
    { print: '%s port=%u family=%s' },
  );
  const listenError = defineEvent('node_net', 'listen_error', { error: 'string' }, { print: 'error=%s' });
  const udpSocket = defineEvent('node_dgram', 'socket', { type: 'string' }, { print: 'type=%s' });

  return [
    channelSource([clientSocket], {
      'net.client.socket': (m) => {
        const { socket } = m as { socket: Socket };
        const started = process.hrtime.bigint();
        socket.once('connect', () => {
          if (clientSocket.enabled)
            clientSocket.emit({
              local_addr: str(socket.localAddress),
              local_port: socket.localPort ?? 0,
              remote_addr: str(socket.remoteAddress),
              remote_port: socket.remotePort ?? 0,
              connect_ns: process.hrtime.bigint() - started,
            });
        });
      },
    }),
    channelSource([serverSocket], {
      'net.server.socket': (m) => {
        const { socket } = m as { socket: Socket };
        if (serverSocket.enabled)
          serverSocket.emit({
            local_addr: str(socket.localAddress),
            local_port: socket.localPort ?? 0,
            remote_addr: str(socket.remoteAddress),
            remote_port: socket.remotePort ?? 0,
          });
      },
    }),
    channelSource([listen, listenError], {
      'tracing:net.server.listen:asyncEnd': (m) => {
        const { server } = m as { server: Server };
        const a = server.address();
        if (!listen.enabled) return;
        if (typeof a === 'string' || a === null) listen.emit({ address: str(a), port: 0, family: 'unix' });
        else listen.emit({ address: (a as AddressInfo).address, port: (a as AddressInfo).port, family: a.family });
      },
      'tracing:net.server.listen:error': (m) => {
        if (listenError.enabled) listenError.emit({ error: errorText((m as { error: unknown }).error) });
      },
    }),
    channelSource([udpSocket], {
      'udp.socket': (m) => {
        const { socket } = m as { socket: UdpSocket & { type?: string } };
        if (udpSocket.enabled) udpSocket.emit({ type: str(socket.type) });
      },
    }),
  ];
}
