/** Runs `make` with these environment variables set (a channel reads the proxy variables when it is made), then restores them. */
export function withEnvironment<T>(variables: Record<string, string>, make: () => T): T {
  const before = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  try {
    return make();
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
