import type { BatchObservableResult, Counter, Meter, Observable } from "@opentelemetry/api";
import type { ConnectionStats } from "../balancer/connection.js";
import type { PoolEvents } from "../balancer/connection-board.js";

interface PoolInstruments {
  meter: Meter;
  connections: Observable;
  inFlight: Observable;
  size: Observable;
  health: Observable;
  observables: Observable[];
  recycles: Counter;
  ejections: Counter;
}

/**
 * @internal
 * The pool's metrics, under `balanced_grpc.`, with the backend address as an
 * attribute: gauges read from the channel's `stats()` when the SDK collects
 * (nothing runs per call), and counters the balancer feeds through the
 * channel's board ({@link PoolEvents}).
 */
export class PoolMetrics implements PoolEvents {
  private instruments: PoolInstruments | undefined;
  private readonly observe = (result: BatchObservableResult) => this.collect(result);

  constructor(
    private readonly target: string,
    private readonly stats: () => ConnectionStats[],
  ) {}

  /** Registers the gauges on `meter` (the current provider's), leaving the previous one; undefined to stop. */
  use(meter: Meter | undefined): void {
    const old = this.instruments;
    if (old?.meter === meter) return;
    if (old) old.meter.removeBatchObservableCallback(this.observe, old.observables);
    this.instruments = undefined;
    if (!meter) return;
    const connections = meter.createObservableGauge("balanced_grpc.connections", {
      description: "Connections of the client by backend, state and role (serving, replacement, draining).",
      unit: "{connection}",
    });
    const inFlight = meter.createObservableGauge("balanced_grpc.calls_in_flight", {
      description: "Calls in flight per backend.",
      unit: "{call}",
    });
    const size = meter.createObservableGauge("balanced_grpc.pool.size", {
      description: "Connections serving calls per backend (pool(n): n per address while they are up).",
      unit: "{connection}",
    });
    const health = meter.createObservableGauge("balanced_grpc.connections.health", {
      description:
        "Connections serving calls, by backend and health: whether it takes calls (healthy) and where that came from (serving, not_serving, unimplemented, unknown).",
      unit: "{connection}",
    });
    const observables = [connections, inFlight, size, health];
    meter.addBatchObservableCallback(this.observe, observables);
    this.instruments = {
      meter,
      connections,
      inFlight,
      size,
      health,
      observables,
      recycles: meter.createCounter("balanced_grpc.recycles", {
        description: "Connections replaced after the client's max connection age, per backend.",
        unit: "{connection}",
      }),
      ejections: meter.createCounter("balanced_grpc.ejections", {
        description: "Times failure accrual took a backend out of the picks.",
        unit: "{ejection}",
      }),
    };
  }

  recycled(backend: string): void {
    this.instruments?.recycles.add(1, { "grpc.target": this.target, "balanced_grpc.backend": backend });
  }

  ejected(backend: string): void {
    this.instruments?.ejections.add(1, { "grpc.target": this.target, "balanced_grpc.backend": backend });
  }

  private collect(result: BatchObservableResult): void {
    const instruments = this.instruments;
    if (!instruments) return;
    const connections = new Map<string, { backend: string; state: string; role: string; count: number }>();
    const perBackend = new Map<string, { inFlight: number; serving: number }>();
    const byHealth = new Map<string, { backend: string; healthy: boolean; source: string; count: number }>();
    for (const c of this.stats()) {
      if (c.role === "serving") {
        const key = `${c.address}\u0000${c.healthy}\u0000${c.healthSource}`;
        const entry = byHealth.get(key);
        if (entry) entry.count++;
        else byHealth.set(key, { backend: c.address, healthy: c.healthy, source: c.healthSource, count: 1 });
      }
      const key = `${c.address}\u0000${c.state}\u0000${c.role}`;
      const entry = connections.get(key);
      if (entry) entry.count++;
      else connections.set(key, { backend: c.address, state: c.state, role: c.role, count: 1 });
      const backend = perBackend.get(c.address) ?? { inFlight: 0, serving: 0 };
      backend.inFlight += c.inFlight;
      if (c.role === "serving") backend.serving++;
      perBackend.set(c.address, backend);
    }
    for (const { backend, state, role, count } of connections.values()) {
      result.observe(instruments.connections, count, {
        "grpc.target": this.target,
        "balanced_grpc.backend": backend,
        "balanced_grpc.connection.state": state,
        "balanced_grpc.connection.role": role,
      });
    }
    for (const { backend, healthy, source, count } of byHealth.values()) {
      result.observe(instruments.health, count, {
        "grpc.target": this.target,
        "balanced_grpc.backend": backend,
        "balanced_grpc.connection.healthy": healthy,
        "balanced_grpc.connection.health": source,
      });
    }
    for (const [backend, { inFlight, serving }] of perBackend) {
      const attributes = { "grpc.target": this.target, "balanced_grpc.backend": backend };
      result.observe(instruments.inFlight, inFlight, attributes);
      result.observe(instruments.size, serving, attributes);
    }
  }
}
