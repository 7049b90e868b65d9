import { subscribe } from "node:diagnostics_channel";
import type { Socket } from "node:net";

/**
 * Every TCP client socket the process opens, with the stack that opened it,
 * through Node's documented `net.client.socket` diagnostics channel (no
 * patching): when the process will not exit, the sockets still open say who
 * left them.
 */
export class SocketWatch {
  private readonly open = new Map<Socket, { at: number; stack: string }>();

  constructor(private readonly now: () => number) {}

  start(): void {
    subscribe("net.client.socket", (message) => {
      const { socket } = message as { socket: Socket };
      const stack = (new Error().stack ?? "").split("\n").slice(2, 14).join("\n");
      this.open.set(socket, { at: this.now(), stack });
      socket.once("close", () => this.open.delete(socket));
    });
  }

  /**
   * Sockets still open: where they lead, when (`t(at)`), the clients that
   * were open then (`owners(at)`: one of them opened it), and the stack.
   */
  report(t: (at: number) => string, owners: (at: number) => string): string[] {
    return [...this.open].map(([socket, { at, stack }]) => {
      const to = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
      const state = `${socket.readyState}${socket.destroyed ? ", destroyed" : ""}`;
      return `socket to ${to} (local port ${socket.localPort ?? "?"}, ${state}) opened ${t(at)}; clients open then: ${owners(at)}; by:\n${stack}`;
    });
  }
}
