import { subscribe } from "node:diagnostics_channel";
import type { Socket } from "node:net";

/**
 * Every TCP client socket the process opens, with the stack that opened it,
 * through Node's documented `net.client.socket` diagnostics channel (no
 * patching): when the process will not exit, the sockets still open say who
 * left them.
 */
export class SocketWatch {
  private readonly open = new Map<Socket, string>();

  start(): void {
    subscribe("net.client.socket", (message) => {
      const { socket } = message as { socket: Socket };
      const stack = (new Error().stack ?? "").split("\n").slice(2, 14).join("\n");
      this.open.set(socket, stack);
      socket.once("close", () => this.open.delete(socket));
    });
  }

  /** Sockets still open: where they lead, and the stack that opened each. */
  report(): string[] {
    return [...this.open].map(([socket, stack]) => {
      const to = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
      const state = `${socket.readyState}${socket.destroyed ? ", destroyed" : ""}`;
      return `socket to ${to} (local port ${socket.localPort ?? "?"}, ${state}) opened at:\n${stack}`;
    });
  }
}
